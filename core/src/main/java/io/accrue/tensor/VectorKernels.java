package io.accrue.tensor;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static io.accrue.tensor.Elementwise.EXP_HI;
import static io.accrue.tensor.Elementwise.EXP_LO;
import static io.accrue.tensor.Elementwise.GELU_2K;
import static io.accrue.tensor.Elementwise.GELU_3C;
import static io.accrue.tensor.Elementwise.GELU_C;
import static io.accrue.tensor.Elementwise.GELU_M2K;
import static io.accrue.tensor.Elementwise.LN2_HI;
import static io.accrue.tensor.Elementwise.LN2_LO;
import static io.accrue.tensor.Elementwise.LOG2E;
import static io.accrue.tensor.Elementwise.P0;
import static io.accrue.tensor.Elementwise.P1;
import static io.accrue.tensor.Elementwise.P2;
import static io.accrue.tensor.Elementwise.P3;
import static io.accrue.tensor.Elementwise.P4;
import static io.accrue.tensor.Elementwise.P5;
import static io.accrue.tensor.Elementwise.ROUND;
import static io.accrue.tensor.Elementwise.ROUND_BITS;

/**
 * The Vector API bodies of {@link AttentionKernels} and {@link Elementwise}; loaded only when
 * {@code jdk.incubator.vector} is present. Each method gives exactly the bits of its scalar oracle: lanes hold
 * independent outputs (or the fixed lane partials of a row sum), every operation is IEEE-exact lanewise, and the
 * tails use {@code Math.fma} in the oracle's order. The species is fixed at 8 floats, so the lane partials do
 * not depend on the machine — except in the products' widest block, whose lanes are independent outputs and
 * which therefore runs on {@link VectorGemm}'s vectors (16 floats where AVX-512 runs): the width changes which
 * block computes an output, never the output's one fma chain.
 */
final class VectorKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final int W = 8;
    private static final int MR = AttentionKernels.MR;
    /** The products' widest block: 4 rows × two of these vectors (16 or 32 columns). */
    private static final VectorSpecies<Float> WIDE = VectorGemm.species();
    private static final int WW = WIDE.length();
    /**
     * Whether pairs of row blocks run as 8 rows × two wide vectors: 16 accumulators, which AVX-512's 32 registers
     * hold (as the GEMM's 8×32 tile) and AVX2's 16 do not. A static final constant, so C2 folds the other path away.
     */
    private static final boolean PAIRS = WW == 16;
    /**
     * The species of the lanewise kernels (exp, GELU and its gradient, AdamW, the softmax rows' lanewise passes,
     * LayerNorm's parameter gradients): the GEMM's, 16 floats where AVX-512 runs. A lanewise result is one
     * element's operations in a fixed order, so the width changes no bit; only kernels with lane partials of a sum
     * (a row's sum in softmax and LayerNorm) keep {@link #S}, whose 8 partials fix the sum's order everywhere.
     */
    private static final VectorSpecies<Float> L = WIDE;
    private static final int LW = WW;

    private VectorKernels() {
    }

    static void multiply(float[] c, int cOff, int ldc, boolean accumulate,
                         float[] a, int aOff, int aRow, int aCol,
                         float[] b, int bOff, int ldb,
                         int m, int n, int k, int band) {
        int i0 = 0;
        if (PAIRS) {
            for (; i0 + 2 * MR <= m; i0 += 2 * MR) {
                int j = pairWide(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, n, k, band, i0);
                rowBlock(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, band, i0, j);
                rowBlock(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, band, i0 + MR, j);
            }
        }
        for (; i0 < m; i0 += MR) {
            rowBlock(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, band, i0, 0);
        }
    }

    /**
     * The wide column chunks that row blocks i0 and i0 + MR both compute, as 8-row blocks; returns the first
     * column left to {@link #rowBlock}. Each block keeps its own p range ({@code pA0 ≤ pB0 ≤ pA1 ≤ pB1}): the p
     * where only one of them runs are run by it alone as a 4-row block, before the shared ones (the first block's,
     * for {@code UPPER}) or after them (the second's, for {@code LOWER}), through C — storing and reloading a
     * float is exact — so every output keeps its one chain, ascending.
     */
    private static int pairWide(float[] c, int cOff, int ldc, boolean accumulate, float[] a, int aOff, int aRow,
                                int aCol, float[] b, int bOff, int ldb, int n, int k, int band, int i0) {
        int pA0 = AttentionKernels.pFrom(band, i0, k);
        int pB0 = AttentionKernels.pFrom(band, i0 + MR, k);
        int pA1 = AttentionKernels.pTo(band, i0, k);
        int pB1 = AttentionKernels.pTo(band, i0 + MR, k);
        int n1 = Math.min(AttentionKernels.columns(band, i0, n), AttentionKernels.columns(band, i0 + MR, n));
        int j = 0;
        boolean aloneFirst = pA0 < pB0;
        for (; j + 2 * WW <= n1; j += 2 * WW) {
            int co = cOff + i0 * ldc + j;
            int ao = aOff + i0 * aRow;
            if (aloneFirst) { // UPPER: the first block's p before the second block's start
                block4Wide(c, co, ldc, accumulate, a, ao, aRow, aCol, b, bOff + j, ldb, pA0, pB0);
            }
            block8Wide(c, co, ldc, accumulate || aloneFirst, accumulate, a, ao, aRow, aCol, b, bOff + j, ldb,
                    pB0, pA1);
            if (pA1 < pB1) { // LOWER: the second block's p after the first block's end
                block4Wide(c, co + MR * ldc, ldc, true, a, ao + MR * aRow, aRow, aCol, b, bOff + j, ldb, pA1, pB1);
            }
        }
        return j;
    }

    /** Row block [i0, i0 + MR) from column j0 on (the columns before are done). */
    private static void rowBlock(float[] c, int cOff, int ldc, boolean accumulate, float[] a, int aOff, int aRow,
                                 int aCol, float[] b, int bOff, int ldb, int m, int n, int k, int band, int i0,
                                 int j0) {
        int rows = Math.min(MR, m - i0);
        int p0 = AttentionKernels.pFrom(band, i0, k);
        int p1 = AttentionKernels.pTo(band, i0, k);
        int n1 = AttentionKernels.columns(band, i0, n);
        int j = j0;
        if (rows == MR) {
            for (; j + 2 * WW <= n1; j += 2 * WW) {
                block4Wide(c, cOff + i0 * ldc + j, ldc, accumulate, a, aOff + i0 * aRow, aRow, aCol,
                        b, bOff + j, ldb, p0, p1);
            }
            for (; j + W <= n1; j += W) {
                block4x8(c, cOff + i0 * ldc + j, ldc, accumulate, a, aOff + i0 * aRow, aRow, aCol,
                        b, bOff + j, ldb, p0, p1);
            }
        } else {
            for (int r = 0; r < rows; r++) {
                for (int jj = j; jj + W <= n1; jj += W) {
                    block1x8(c, cOff + (i0 + r) * ldc + jj, accumulate, a, aOff + (i0 + r) * aRow, aCol,
                            b, bOff + jj, ldb, p0, p1);
                }
            }
            j = n1 - (n1 - j) % W;
        }
        for (int r = 0; r < rows; r++) {
            int ar = aOff + (i0 + r) * aRow;
            for (int jj = j; jj < n1; jj++) {
                int ci = cOff + (i0 + r) * ldc + jj;
                float s = accumulate ? c[ci] : 0f;
                for (int p = p0; p < p1; p++) {
                    s = Math.fma(a[ar + p * aCol], b[bOff + p * ldb + jj], s);
                }
                c[ci] = s;
            }
        }
    }

    /**
     * 8 rows × two {@link #WIDE} vectors over p in [p0, p1); rows 0–3 start from C where {@code accumulateA}, rows
     * 4–7 where {@code accumulateB}, else from +0.
     */
    private static void block8Wide(float[] c, int co, int ldc, boolean accumulateA, boolean accumulateB, float[] a,
                                   int ao, int aRow, int aCol, float[] b, int bo, int ldb, int p0, int p1) {
        FloatVector c00 = start(accumulateA, c, co);
        FloatVector c01 = start(accumulateA, c, co + WW);
        FloatVector c10 = start(accumulateA, c, co + 1 * ldc);
        FloatVector c11 = start(accumulateA, c, co + 1 * ldc + WW);
        FloatVector c20 = start(accumulateA, c, co + 2 * ldc);
        FloatVector c21 = start(accumulateA, c, co + 2 * ldc + WW);
        FloatVector c30 = start(accumulateA, c, co + 3 * ldc);
        FloatVector c31 = start(accumulateA, c, co + 3 * ldc + WW);
        FloatVector c40 = start(accumulateB, c, co + 4 * ldc);
        FloatVector c41 = start(accumulateB, c, co + 4 * ldc + WW);
        FloatVector c50 = start(accumulateB, c, co + 5 * ldc);
        FloatVector c51 = start(accumulateB, c, co + 5 * ldc + WW);
        FloatVector c60 = start(accumulateB, c, co + 6 * ldc);
        FloatVector c61 = start(accumulateB, c, co + 6 * ldc + WW);
        FloatVector c70 = start(accumulateB, c, co + 7 * ldc);
        FloatVector c71 = start(accumulateB, c, co + 7 * ldc + WW);
        int a0 = ao + 0 * aRow;
        int a1 = ao + 1 * aRow;
        int a2 = ao + 2 * aRow;
        int a3 = ao + 3 * aRow;
        int a4 = ao + 4 * aRow;
        int a5 = ao + 5 * aRow;
        int a6 = ao + 6 * aRow;
        int a7 = ao + 7 * aRow;
        for (int p = p0; p < p1; p++) {
            int bp = bo + p * ldb;
            int ap = p * aCol;
            FloatVector b0 = FloatVector.fromArray(WIDE, b, bp);
            FloatVector b1 = FloatVector.fromArray(WIDE, b, bp + WW);
            FloatVector x = FloatVector.broadcast(WIDE, a[a0 + ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(WIDE, a[a1 + ap]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(WIDE, a[a2 + ap]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(WIDE, a[a3 + ap]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(WIDE, a[a4 + ap]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(WIDE, a[a5 + ap]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(WIDE, a[a6 + ap]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(WIDE, a[a7 + ap]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + WW);
        c10.intoArray(c, co + 1 * ldc);
        c11.intoArray(c, co + 1 * ldc + WW);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + WW);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + WW);
        c40.intoArray(c, co + 4 * ldc);
        c41.intoArray(c, co + 4 * ldc + WW);
        c50.intoArray(c, co + 5 * ldc);
        c51.intoArray(c, co + 5 * ldc + WW);
        c60.intoArray(c, co + 6 * ldc);
        c61.intoArray(c, co + 6 * ldc + WW);
        c70.intoArray(c, co + 7 * ldc);
        c71.intoArray(c, co + 7 * ldc + WW);
    }

    /** An accumulator's start: the wide vector at {@code c[off]}, or +0. */
    private static FloatVector start(boolean accumulate, float[] c, int off) {
        return accumulate ? FloatVector.fromArray(WIDE, c, off) : FloatVector.zero(WIDE);
    }

    /** 4 rows × two {@link #WIDE} vectors: 8 accumulators, which AVX2's 16 registers and AVX-512's 32 hold. */
    private static void block4Wide(float[] c, int co, int ldc, boolean accumulate, float[] a, int ao, int aRow,
                                   int aCol, float[] b, int bo, int ldb, int p0, int p1) {
        FloatVector c00 = start(accumulate, c, co);
        FloatVector c01 = start(accumulate, c, co + WW);
        FloatVector c10 = start(accumulate, c, co + ldc);
        FloatVector c11 = start(accumulate, c, co + ldc + WW);
        FloatVector c20 = start(accumulate, c, co + 2 * ldc);
        FloatVector c21 = start(accumulate, c, co + 2 * ldc + WW);
        FloatVector c30 = start(accumulate, c, co + 3 * ldc);
        FloatVector c31 = start(accumulate, c, co + 3 * ldc + WW);
        int a0 = ao;
        int a1 = ao + aRow;
        int a2 = ao + 2 * aRow;
        int a3 = ao + 3 * aRow;
        for (int p = p0; p < p1; p++) {
            int bp = bo + p * ldb;
            int ap = p * aCol;
            FloatVector b0 = FloatVector.fromArray(WIDE, b, bp);
            FloatVector b1 = FloatVector.fromArray(WIDE, b, bp + WW);
            FloatVector x = FloatVector.broadcast(WIDE, a[a0 + ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(WIDE, a[a1 + ap]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(WIDE, a[a2 + ap]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(WIDE, a[a3 + ap]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + WW);
        c10.intoArray(c, co + ldc);
        c11.intoArray(c, co + ldc + WW);
        c20.intoArray(c, co + 2 * ldc);
        c21.intoArray(c, co + 2 * ldc + WW);
        c30.intoArray(c, co + 3 * ldc);
        c31.intoArray(c, co + 3 * ldc + WW);
    }

    private static void block4x8(float[] c, int co, int ldc, boolean accumulate, float[] a, int ao, int aRow,
                                 int aCol, float[] b, int bo, int ldb, int p0, int p1) {
        FloatVector c0;
        FloatVector c1;
        FloatVector c2;
        FloatVector c3;
        if (accumulate) {
            c0 = FloatVector.fromArray(S, c, co);
            c1 = FloatVector.fromArray(S, c, co + ldc);
            c2 = FloatVector.fromArray(S, c, co + 2 * ldc);
            c3 = FloatVector.fromArray(S, c, co + 3 * ldc);
        } else {
            c0 = FloatVector.zero(S);
            c1 = c0;
            c2 = c0;
            c3 = c0;
        }
        int a0 = ao;
        int a1 = ao + aRow;
        int a2 = ao + 2 * aRow;
        int a3 = ao + 3 * aRow;
        for (int p = p0; p < p1; p++) {
            int ap = p * aCol;
            FloatVector b0 = FloatVector.fromArray(S, b, bo + p * ldb);
            c0 = FloatVector.broadcast(S, a[a0 + ap]).fma(b0, c0);
            c1 = FloatVector.broadcast(S, a[a1 + ap]).fma(b0, c1);
            c2 = FloatVector.broadcast(S, a[a2 + ap]).fma(b0, c2);
            c3 = FloatVector.broadcast(S, a[a3 + ap]).fma(b0, c3);
        }
        c0.intoArray(c, co);
        c1.intoArray(c, co + ldc);
        c2.intoArray(c, co + 2 * ldc);
        c3.intoArray(c, co + 3 * ldc);
    }

    private static void block1x8(float[] c, int co, boolean accumulate, float[] a, int ao, int aCol,
                                 float[] b, int bo, int ldb, int p0, int p1) {
        FloatVector c0 = accumulate ? FloatVector.fromArray(S, c, co) : FloatVector.zero(S);
        for (int p = p0; p < p1; p++) {
            c0 = FloatVector.broadcast(S, a[ao + p * aCol]).fma(FloatVector.fromArray(S, b, bo + p * ldb), c0);
        }
        c0.intoArray(c, co);
    }

    /** The fixed combination of the 8 lane partials, as {@link AttentionKernels#combine}. */
    private static float combine(FloatVector v) {
        return ((v.lane(0) + v.lane(1)) + (v.lane(2) + v.lane(3))) + ((v.lane(4) + v.lane(5))
                + (v.lane(6) + v.lane(7)));
    }

    static void softmaxRow(float[] s, int off, int len, int width, float scale) {
        int bound = L.loopBound(len);
        // The lanewise passes cover a ragged tail with one more vector where the row has room: its lanes past len
        // hold whatever the caller left there, enter neither the max nor the sum, and are zeroed at the end.
        int lanes = bound < len && bound + LW <= width ? bound + LW : bound;
        FloatVector vmax = FloatVector.broadcast(L, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j < bound; j += LW) {
            FloatVector v = FloatVector.fromArray(L, s, off + j).mul(scale);
            v.intoArray(s, off + j);
            vmax = vmax.max(v);
        }
        float max = vmax.reduceLanes(VectorOperators.MAX); // a max has the same bits in any order
        for (; j < len; j++) {
            float v = s[off + j] * scale;
            s[off + j] = v;
            max = Math.max(max, v);
        }
        FloatVector vm = FloatVector.broadcast(L, max);
        for (j = 0; j < lanes; j += LW) {
            FloatVector.fromArray(L, s, off + j).sub(vm).intoArray(s, off + j);
        }
        expVectors(s, off, lanes);
        for (j = lanes; j < len; j++) {
            s[off + j] = Elementwise.exp(s[off + j] - max);
        }
        int sumBound = S.loopBound(len);
        FloatVector part = FloatVector.zero(S);
        for (j = 0; j < sumBound; j += W) {
            part = part.add(FloatVector.fromArray(S, s, off + j));
        }
        float sum = combine(part);
        for (; j < len; j++) {
            sum += s[off + j];
        }
        float inv = 1f / sum;
        for (j = 0; j < lanes; j += LW) {
            FloatVector p = FloatVector.fromArray(L, s, off + j).mul(inv);
            p.blend(0f, p.lt(Elementwise.NEGLIGIBLE)).intoArray(s, off + j);
        }
        for (; j < len; j++) {
            s[off + j] = Elementwise.flushNegligible(s[off + j] * inv);
        }
        Arrays.fill(s, off + len, off + width, 0f);
    }

    static void softmaxBackwardRow(float[] g, int gOff, float[] p, int pOff, int len, int width, float scale) {
        int bound = S.loopBound(len);
        FloatVector part = FloatVector.zero(S);
        int j = 0;
        for (; j < bound; j += W) {
            part = FloatVector.fromArray(S, p, pOff + j).fma(FloatVector.fromArray(S, g, gOff + j), part);
        }
        float dot = combine(part);
        for (; j < len; j++) {
            dot = Math.fma(p[pOff + j], g[gOff + j], dot);
        }
        for (j = 0; j < bound; j += W) {
            FloatVector pv = FloatVector.fromArray(S, p, pOff + j);
            pv.mul(FloatVector.fromArray(S, g, gOff + j).sub(dot)).mul(scale).intoArray(g, gOff + j);
        }
        for (; j < len; j++) {
            g[gOff + j] = p[pOff + j] * (g[gOff + j] - dot) * scale;
        }
        for (j = len; j < width; j++) {
            g[gOff + j] = 0f;
        }
    }

    /**
     * {@code a[off + j] = exp(a[off + j])} for j in [0, n), n a multiple of the vector length: lanewise
     * {@link Elementwise#exp}, the same operations in the same order. The kernels that need exp write its argument
     * to an array and call this, rather than pass vectors to a helper: a vector that crosses a call C2 did not
     * inline is boxed on the heap, and whether C2 inlines a 200-byte helper into a large kernel varies from run to
     * run (its node-count and call-frequency cut-offs). Runs that boxed collected garbage 16–48 times a second and
     * trained `small` at micro-batch 1 6–12% slower.
     */
    static void expVectors(float[] a, int off, int n) {
        FloatVector log2e = FloatVector.broadcast(L, LOG2E);
        FloatVector round = FloatVector.broadcast(L, ROUND);
        FloatVector ln2Hi = FloatVector.broadcast(L, -LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(L, -LN2_LO);
        FloatVector p0 = FloatVector.broadcast(L, P0);
        FloatVector p1 = FloatVector.broadcast(L, P1);
        FloatVector p2 = FloatVector.broadcast(L, P2);
        FloatVector p3 = FloatVector.broadcast(L, P3);
        FloatVector p4 = FloatVector.broadcast(L, P4);
        FloatVector p5 = FloatVector.broadcast(L, P5);
        for (int j = off; j < off + n; j += LW) {
            FloatVector x = FloatVector.fromArray(L, a, j);
            VectorMask<Float> under = x.lt(EXP_LO);
            FloatVector c = x.max(EXP_LO).min(EXP_HI);
            FloatVector t = c.fma(log2e, round);
            FloatVector m = t.sub(ROUND);
            FloatVector r = m.fma(ln2Hi, c);
            r = m.fma(ln2Lo, r);
            FloatVector q = p0.fma(r, p1);
            q = q.fma(r, p2);
            q = q.fma(r, p3);
            q = q.fma(r, p4);
            q = q.fma(r, p5);
            FloatVector e = q.fma(r.mul(r), r).add(1f);
            FloatVector scale = ((IntVector) t.reinterpretAsInts()).sub(ROUND_BITS - 127)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            e.mul(scale).blend(0f, under).intoArray(a, j);
        }
    }

    /** Elements per pass of the kernels that go through {@link #expVectors}: a few KB, so the passes stay in L1. */
    private static final int CHUNK = 512;
    /** Scratch of {@link #CHUNK} floats per thread, for exp's arguments where the output can't hold them. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[CHUNK]);

    static void adamW(float[] w, float[] m, float[] v, float[] g, int from, int to, float decay, float beta1,
                      float c1, float beta2, float c2, float bc2Sqrt, float eps, float stepSize) {
        int bound = from + L.loopBound(to - from);
        int i = from;
        for (; i < bound; i += LW) {
            FloatVector gi = FloatVector.fromArray(L, g, i);
            FloatVector mi = FloatVector.fromArray(L, m, i).mul(beta1).add(gi.mul(c1));
            FloatVector vi = FloatVector.fromArray(L, v, i).mul(beta2).add(gi.mul(gi).mul(c2));
            mi.intoArray(m, i);
            vi.intoArray(v, i);
            FloatVector denom = vi.sqrt().div(bc2Sqrt).add(eps);
            FloatVector.fromArray(L, w, i).mul(decay).sub(mi.div(denom).mul(stepSize)).intoArray(w, i);
        }
        Elementwise.adamWScalar(w, m, v, g, i, to, decay, beta1, c1, beta2, c2, bc2Sqrt, eps, stepSize);
    }

    /** Per thread, the gathers' index map of {@link #transposeRows}. */
    private static final ThreadLocal<int[]> GATHER_ROWS = ThreadLocal.withInitial(() -> new int[LW]);

    /**
     * The leading whole groups of {@link #LW} rows of {@link AttentionKernels#transpose}, each column of a group
     * gathered into one vector (AVX-512 only: elsewhere gathers may be microcoded); returns the rows done. A head's
     * K or V (256 rows 3C apart, 64 columns) took 13 µs element by element and 3.4 with gathers, read from cache,
     * 50 and 19 from memory, as the backward reads V.
     */
    static int transposeRows(float[] dst, int dOff, int ldDst, float[] src, int sOff, int ldSrc, int rows,
                             int cols) {
        if (LW < 16) {
            return 0;
        }
        int[] index = GATHER_ROWS.get();
        for (int l = 0; l < LW; l++) {
            index[l] = l * ldSrc;
        }
        int i = 0;
        for (; i + LW <= rows; i += LW) {
            int from = sOff + i * ldSrc;
            for (int j = 0; j < cols; j++) {
                FloatVector.fromArray(L, src, from + j, index, 0).intoArray(dst, dOff + j * ldDst + i);
            }
        }
        return i;
    }

    static void add(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n) {
        int bound = L.loopBound(n);
        for (int i = 0; i < bound; i += LW) {
            FloatVector.fromArray(L, a, aOff + i).add(FloatVector.fromArray(L, b, bOff + i)).intoArray(y, yOff + i);
        }
        Elementwise.addScalar(y, yOff + bound, a, aOff + bound, b, bOff + bound, n - bound);
    }

    /** Columns summed at once: four vectors of accumulators, loaded once and stored once for all rows. */
    private static final int SUM_COLUMNS = 4 * LW;

    static void addColumnSums(float[] out, int oOff, float[] x, int xOff, int ld, int rows, int j0, int j1) {
        int j = j0;
        for (; j + SUM_COLUMNS <= j1; j += SUM_COLUMNS) {
            int o = oOff + j;
            FloatVector s0 = FloatVector.fromArray(L, out, o);
            FloatVector s1 = FloatVector.fromArray(L, out, o + LW);
            FloatVector s2 = FloatVector.fromArray(L, out, o + 2 * LW);
            FloatVector s3 = FloatVector.fromArray(L, out, o + 3 * LW);
            for (int r = 0, xi = xOff + j; r < rows; r++, xi += ld) {
                s0 = s0.add(FloatVector.fromArray(L, x, xi));
                s1 = s1.add(FloatVector.fromArray(L, x, xi + LW));
                s2 = s2.add(FloatVector.fromArray(L, x, xi + 2 * LW));
                s3 = s3.add(FloatVector.fromArray(L, x, xi + 3 * LW));
            }
            s0.intoArray(out, o);
            s1.intoArray(out, o + LW);
            s2.intoArray(out, o + 2 * LW);
            s3.intoArray(out, o + 3 * LW);
        }
        for (; j + LW <= j1; j += LW) {
            FloatVector s0 = FloatVector.fromArray(L, out, oOff + j);
            for (int r = 0, xi = xOff + j; r < rows; r++, xi += ld) {
                s0 = s0.add(FloatVector.fromArray(L, x, xi));
            }
            s0.intoArray(out, oOff + j);
        }
        Elementwise.addColumnSumsScalar(out, oOff, x, xOff, ld, rows, j, j1);
    }

    static void gelu(float[] y, int yOff, float[] x, int xOff, int n) {
        int bound = L.loopBound(n);
        for (int c0 = 0; c0 < bound; c0 += CHUNK) {
            int c1 = Math.min(bound, c0 + CHUNK);
            for (int i = c0; i < c1; i += LW) { // exp's argument, through y
                FloatVector xv = FloatVector.fromArray(L, x, xOff + i);
                xv.mul(xv).mul(GELU_C).fma(xv, xv).mul(GELU_M2K).intoArray(y, yOff + i);
            }
            expVectors(y, yOff + c0, c1 - c0);
            for (int i = c0; i < c1; i += LW) {
                FloatVector.fromArray(L, x, xOff + i).div(FloatVector.fromArray(L, y, yOff + i).add(1f))
                        .intoArray(y, yOff + i);
            }
        }
        for (int i = bound; i < n; i++) {
            y[yOff + i] = Elementwise.gelu(x[xOff + i]);
        }
    }

    static void geluBackward(float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff, float[] x, int xOff,
                             int n) {
        int bound = L.loopBound(n);
        float[] t = SCRATCH.get();
        FloatVector gelu3c = FloatVector.broadcast(L, GELU_3C);
        for (int c0 = 0; c0 < bound; c0 += CHUNK) {
            int c1 = Math.min(bound, c0 + CHUNK);
            for (int i = c0; i < c1; i += LW) {
                FloatVector xv = FloatVector.fromArray(L, x, xOff + i);
                xv.mul(xv).mul(GELU_C).fma(xv, xv).mul(GELU_M2K).intoArray(t, i - c0);
            }
            expVectors(t, 0, c1 - c0);
            for (int i = c0; i < c1; i += LW) {
                FloatVector xv = FloatVector.fromArray(L, x, xOff + i);
                FloatVector x2 = xv.mul(xv);
                FloatVector e = FloatVector.fromArray(L, t, i - c0);
                VectorMask<Float> negligible = e.compare(VectorOperators.GT, 1f / Elementwise.NEGLIGIBLE);
                e = e.min(1f / Elementwise.NEGLIGIBLE);
                FloatVector s = FloatVector.broadcast(L, 1f).div(e.add(1f));
                FloatVector es = e.mul(s);
                FloatVector q = xv.mul(GELU_2K).mul(x2.fma(gelu3c, FloatVector.broadcast(L, 1f))).mul(es);
                FloatVector local = s.fma(q, s).blend(0f, negligible);
                FloatVector from = accumulate ? FloatVector.fromArray(L, dx, dxOff + i) : FloatVector.zero(L);
                FloatVector.fromArray(L, dy, dyOff + i).fma(local, from).intoArray(dx, dxOff + i);
            }
        }
        Elementwise.geluBackwardScalar(dx, dxOff + bound, accumulate, dy, dyOff + bound, x, xOff + bound,
                n - bound);
    }

    static double expSum(float[] x, int xOff, int n, float shift) {
        int bound = L.loopBound(n);
        float[] t = SCRATCH.get();
        double sum = 0;
        for (int c0 = 0; c0 < bound; c0 += CHUNK) {
            int len = Math.min(bound, c0 + CHUNK) - c0;
            // exp's argument staged in t, in this loop rather than a helper: in a two-line helper shared with
            // softmaxAdd, C2 left these vector calls out of line and ran their boxing fallback (tiny 1×8 allocated
            // 4.2 MB per step, 0.2 without)
            for (int j = 0; j < len; j += LW) {
                FloatVector.fromArray(L, x, xOff + c0 + j).sub(shift).intoArray(t, j);
            }
            expVectors(t, 0, len);
            for (int j = 0; j < len; j++) {
                sum += t[j];
            }
        }
        for (int j = bound; j < n; j++) {
            sum += Elementwise.exp(x[xOff + j] - shift);
        }
        return sum;
    }

    static void softmaxAdd(float[] g, int gOff, float[] x, int xOff, int n, float shift, float sum) {
        int bound = L.loopBound(n);
        float[] t = SCRATCH.get();
        FloatVector vsum = FloatVector.broadcast(L, sum);
        for (int c0 = 0; c0 < bound; c0 += CHUNK) {
            int len = Math.min(bound, c0 + CHUNK) - c0;
            for (int j = 0; j < len; j += LW) {
                FloatVector.fromArray(L, x, xOff + c0 + j).sub(shift).intoArray(t, j);
            }
            expVectors(t, 0, len);
            for (int j = 0; j < len; j += LW) {
                FloatVector p = FloatVector.fromArray(L, t, j).div(vsum);
                FloatVector.fromArray(L, g, gOff + c0 + j).add(p.blend(0f, p.lt(Elementwise.NEGLIGIBLE)))
                        .intoArray(g, gOff + c0 + j);
            }
        }
        for (int j = bound; j < n; j++) {
            g[gOff + j] += Elementwise.flushNegligible(Elementwise.exp(x[xOff + j] - shift) / sum);
        }
    }

    static float max(float[] x, int xOff, int n) {
        int bound = L.loopBound(n);
        FloatVector vmax = FloatVector.broadcast(L, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j < bound; j += LW) {
            vmax = vmax.max(FloatVector.fromArray(L, x, xOff + j));
        }
        float m = vmax.reduceLanes(VectorOperators.MAX); // a max has the same bits in any order
        for (; j < n; j++) {
            m = Math.max(m, x[xOff + j]);
        }
        return m;
    }
    static void layerNormRow(float[] y, int yOff, float[] mean, int meanIdx, float[] rstd, int rstdIdx,
                             float[] x, int xOff, float[] gamma, int gOff, float[] beta, int bOff, int c, float eps) {
        int bound = S.loopBound(c);
        FloatVector part = FloatVector.zero(S);
        int j = 0;
        for (; j < bound; j += W) {
            part = part.add(FloatVector.fromArray(S, x, xOff + j));
        }
        float sum = combine(part);
        for (; j < c; j++) {
            sum += x[xOff + j];
        }
        float m = sum / c;
        FloatVector vm = FloatVector.broadcast(S, m);
        part = FloatVector.zero(S);
        for (j = 0; j < bound; j += W) {
            FloatVector d = FloatVector.fromArray(S, x, xOff + j).sub(vm);
            part = d.fma(d, part);
        }
        float sq = combine(part);
        for (; j < c; j++) {
            float d = x[xOff + j] - m;
            sq = Math.fma(d, d, sq);
        }
        float s = NormKernels.rstd(sq, c, eps);
        mean[meanIdx] = m;
        rstd[rstdIdx] = s;
        for (j = 0; j < bound; j += W) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + j).sub(vm).mul(s);
            xhat.fma(FloatVector.fromArray(S, gamma, gOff + j), FloatVector.fromArray(S, beta, bOff + j))
                    .intoArray(y, yOff + j);
        }
        for (; j < c; j++) {
            y[yOff + j] = Math.fma((x[xOff + j] - m) * s, gamma[gOff + j], beta[bOff + j]);
        }
    }

    static void layerNormBackwardRow(float[] dx, int dxOff, float[] x, int xOff, float[] dy, int dyOff,
                                     float[] gamma, int gOff, float m, float s, int c) {
        int bound = S.loopBound(c);
        FloatVector vm = FloatVector.broadcast(S, m);
        FloatVector pg = FloatVector.zero(S);
        FloatVector pgx = FloatVector.zero(S);
        int j = 0;
        for (; j < bound; j += W) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + j).sub(vm).mul(s);
            FloatVector g = FloatVector.fromArray(S, dy, dyOff + j).mul(FloatVector.fromArray(S, gamma, gOff + j));
            pg = pg.add(g);
            pgx = g.fma(xhat, pgx);
        }
        float sumG = combine(pg);
        float sumGx = combine(pgx);
        for (; j < c; j++) {
            float xhat = (x[xOff + j] - m) * s;
            float g = dy[dyOff + j] * gamma[gOff + j];
            sumG += g;
            sumGx = Math.fma(g, xhat, sumGx);
        }
        float a = sumG / c;
        float b = sumGx / c;
        FloatVector vs = FloatVector.broadcast(S, s);
        FloatVector nb = FloatVector.broadcast(S, -b);
        for (j = 0; j < bound; j += W) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + j).sub(vm).mul(s);
            FloatVector g = FloatVector.fromArray(S, dy, dyOff + j).mul(FloatVector.fromArray(S, gamma, gOff + j));
            FloatVector t = xhat.fma(nb, g.sub(a));
            vs.fma(t, FloatVector.fromArray(S, dx, dxOff + j)).intoArray(dx, dxOff + j);
        }
        for (; j < c; j++) {
            float xhat = (x[xOff + j] - m) * s;
            float g = dy[dyOff + j] * gamma[gOff + j];
            dx[dxOff + j] = Math.fma(s, Math.fma(-xhat, b, g - a), dx[dxOff + j]);
        }
    }

    static void layerNormParamRow(float[] dgamma, int dgOff, float[] dbeta, int dbOff, float[] x, int xOff,
                                  float[] dy, int dyOff, float m, float s, int from, int to) {
        int bound = from + L.loopBound(to - from);
        if (dgamma != null) {
            FloatVector vm = FloatVector.broadcast(L, m);
            int i = from;
            for (; i < bound; i += LW) {
                FloatVector xhat = FloatVector.fromArray(L, x, xOff + i).sub(vm).mul(s);
                xhat.fma(FloatVector.fromArray(L, dy, dyOff + i), FloatVector.fromArray(L, dgamma, dgOff + i))
                        .intoArray(dgamma, dgOff + i);
            }
            for (; i < to; i++) {
                float xhat = (x[xOff + i] - m) * s;
                dgamma[dgOff + i] = Math.fma(xhat, dy[dyOff + i], dgamma[dgOff + i]);
            }
        }
        if (dbeta != null) {
            int i = from;
            for (; i < bound; i += LW) {
                FloatVector.fromArray(L, dbeta, dbOff + i).add(FloatVector.fromArray(L, dy, dyOff + i))
                        .intoArray(dbeta, dbOff + i);
            }
            for (; i < to; i++) {
                dbeta[dbOff + i] += dy[dyOff + i];
            }
        }
    }
}
