package io.accrue.tensor.attention;

import java.util.Arrays;

import io.accrue.tensor.Lanes;
import io.accrue.tensor.elementwise.Exp;
import io.accrue.tensor.elementwise.VectorExp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API bodies of {@link AttentionKernels}; loaded only when {@code jdk.incubator.vector} is present. Each
 * method gives exactly the bits of its scalar oracle: lanes hold independent outputs (or the fixed lane partials of
 * a row sum), every operation is IEEE-exact lanewise, and the tails use {@code Math.fma} in the oracle's order. The
 * row sums' partials are 8 floats ({@link Lanes#EIGHT}), so they do not depend on the machine; the products' widest
 * block, whose lanes are independent outputs, runs on the GEMM's vectors ({@link Lanes#WIDE}, 16 floats where
 * AVX-512 runs): the width changes which block computes an output, never the output's one fma chain.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> S = Lanes.EIGHT;
    private static final int W = 8;
    private static final int MR = AttentionKernels.MR;
    /** The products' widest block: 4 rows × two of these vectors (16 or 32 columns). */
    private static final VectorSpecies<Float> WIDE = Lanes.WIDE;
    private static final int WW = WIDE.length();
    /**
     * Whether pairs of row blocks run as 8 rows × two wide vectors: 16 accumulators, which AVX-512's 32 registers
     * hold (as the GEMM's 8×32 tile) and AVX2's 16 do not. A static final constant, so C2 folds the other path away.
     */
    private static final boolean PAIRS = WW == 16;
    /**
     * The species of the softmax rows' lanewise passes: {@link Lanes#WIDE}. A lanewise result is one element's
     * operations in a fixed order, so the width changes no bit; the row's sum keeps {@link #S}, whose 8 partials fix
     * its order everywhere.
     */
    private static final VectorSpecies<Float> L = WIDE;
    private static final int LW = WW;

    private VectorAttention() {
    }

    static void multiply(float[] c, int cOff, int ldc, boolean accumulate,
                         float[] a, int aOff, int aRow, int aCol,
                         float[] b, int bOff, int ldb,
                         int m, int n, int k, int band, int diagonal) {
        int i0 = 0;
        if (PAIRS) {
            for (; i0 + 2 * MR <= m; i0 += 2 * MR) {
                int j = pairWide(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, n, k, band, diagonal,
                        i0);
                rowBlock(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, band, diagonal, i0,
                        j);
                rowBlock(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, band, diagonal,
                        i0 + MR, j);
            }
        }
        for (; i0 < m; i0 += MR) {
            rowBlock(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, band, diagonal, i0, 0);
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
                                int aCol, float[] b, int bOff, int ldb, int n, int k, int band, int diagonal,
                                int i0) {
        int d0 = i0 + diagonal;
        int pA0 = AttentionKernels.pFrom(band, d0, k);
        int pB0 = AttentionKernels.pFrom(band, d0 + MR, k);
        int pA1 = AttentionKernels.pTo(band, d0, k);
        int pB1 = AttentionKernels.pTo(band, d0 + MR, k);
        int n1 = Math.min(AttentionKernels.columns(band, d0, n), AttentionKernels.columns(band, d0 + MR, n));
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
                                 int aCol, float[] b, int bOff, int ldb, int m, int n, int k, int band,
                                 int diagonal, int i0, int j0) {
        int rows = Math.min(MR, m - i0);
        int p0 = AttentionKernels.pFrom(band, i0 + diagonal, k);
        int p1 = AttentionKernels.pTo(band, i0 + diagonal, k);
        int n1 = AttentionKernels.columns(band, i0 + diagonal, n);
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

    static void softmaxRow(float[] s, int off, int len, int width, float scale, float[] stats, int statsOff) {
        int bound = L.loopBound(len);
        int lanes = lanes(len, width);
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
        VectorExp.expVectors(s, off, lanes);
        for (j = lanes; j < len; j++) {
            s[off + j] = Exp.exp(s[off + j] - max);
        }
        int sumBound = S.loopBound(len);
        FloatVector part = FloatVector.zero(S);
        for (j = 0; j < sumBound; j += W) {
            part = part.add(FloatVector.fromArray(S, s, off + j));
        }
        float sum = Lanes.combine(part);
        for (; j < len; j++) {
            sum += s[off + j];
        }
        float inv = 1f / sum;
        normalize(s, off, len, width, lanes, inv);
        stats[statsOff] = max;
        stats[statsOff + 1] = inv;
    }

    static void probabilityRow(float[] s, int off, int len, int width, float scale, float max, float inv) {
        int lanes = lanes(len, width);
        FloatVector vm = FloatVector.broadcast(L, max);
        for (int j = 0; j < lanes; j += LW) {
            FloatVector.fromArray(L, s, off + j).mul(scale).sub(vm).intoArray(s, off + j);
        }
        VectorExp.expVectors(s, off, lanes);
        for (int j = lanes; j < len; j++) {
            s[off + j] = Exp.exp(s[off + j] * scale - max);
        }
        normalize(s, off, len, width, lanes, inv);
    }

    /**
     * The end of a row's lanewise passes: they cover a ragged tail with one more vector where the row has room. Its
     * lanes past len hold whatever the caller left there, enter neither the max nor the sum, and are zeroed at the
     * end.
     */
    private static int lanes(int len, int width) {
        int bound = L.loopBound(len);
        return bound < len && bound + LW <= width ? bound + LW : bound;
    }

    /** {@code s[j] ← flush(s[j]·inv)} for j in [0, len) ({@code lanes} of them by vectors), 0 in [len, width). */
    private static void normalize(float[] s, int off, int len, int width, int lanes, float inv) {
        int j = 0;
        for (; j < lanes; j += LW) {
            FloatVector p = FloatVector.fromArray(L, s, off + j).mul(inv);
            p.blend(0f, p.lt(Exp.NEGLIGIBLE)).intoArray(s, off + j);
        }
        for (; j < len; j++) {
            s[off + j] = Exp.flushNegligible(s[off + j] * inv);
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
        float dot = Lanes.combine(part);
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
     * The leading whole groups of {@link #LW} rows of {@link AttentionKernels#transpose}, each column of a group
     * gathered into one vector (AVX-512 only: elsewhere gathers may be microcoded); returns the rows done.
     * {@code index} is the caller's scratch for the gathers' index map, at least {@link #LW} ints.
     */
    static int transposeRows(float[] dst, int dOff, int ldDst, float[] src, int sOff, int ldSrc, int rows,
                             int cols, int[] index) {
        if (LW < 16) {
            return 0;
        }
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
}
