package io.accrue.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernel behind {@link Gemm}: packed A and B panels and a 5×16 register-blocked micro-kernel.
 * The only class of Accrue that touches {@code jdk.incubator.vector} for GEMM; {@link Gemm} loads it only when
 * the module is present.
 *
 * <p>Law 3, exactly as {@link GemmReference}: each output element is one FMA chain along k, ascending, that
 * starts from the value in C. The k dimension is cut into blocks (their bounds depend on k alone); at the start
 * of a block the accumulators are loaded from C and at its end stored back (β = 1), and storing and reloading a
 * float is exact, so the blocks change no bit. Vector lanes hold different columns j. Edge tiles are padded
 * with zeros in the packed panels and computed into a small tile buffer, of which only the real outputs are
 * copied back: padding never enters a real output's chain.
 *
 * <p>Buffers are owned per thread part and reused across calls; an instance serves one caller at a time.
 */
final class VectorGemm {
    /** 8 floats; lanes are independent outputs, so the width does not change any bit. */
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    private static final int W = 8;
    /** Register block: 5 rows × 16 columns (two vectors) = 10 accumulators; 6×16 spills on JDK 25's C2. */
    static final int MR = 5;
    static final int NR = 2 * W;
    /** Largest k block (packed A block 80×768 floats fits L2; a B micro-panel 768×16). */
    static final int KC = 768;
    /** Rows of A packed at a time; a multiple of MR. */
    static final int MC = 80;
    /** Columns of B packed at a time: a per-thread panel of KC×NC floats = 3 MB. */
    static final int NC = 1024;

    private final float[][] packA;
    private final float[][] packB;
    private final float[][] tile;

    VectorGemm(int parts) {
        packA = new float[parts][];
        packB = new float[parts][];
        tile = new float[parts][];
        for (int p = 0; p < parts; p++) {
            tile[p] = new float[MR * NR];
        }
    }

    /** The k-block length for a reduction of length k: at most {@link #KC}, equal blocks, a function of k alone. */
    static int kBlock(int k) {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }

    /**
     * Computes the outputs {@code C[i0..i1)[j0..j1)} of {@code C += op(A)·op(B)} using the buffers of
     * {@code part}. Offsets and leading dimensions are those of the whole matrices.
     */
    void multiply(int part,
                  float[] c, int cOff, int ldc,
                  float[] a, int aOff, int lda, boolean transA,
                  float[] b, int bOff, int ldb, boolean transB,
                  int i0, int i1, int j0, int j1, int k) {
        int kb = kBlock(k);
        float[] pa = buffer(packA, part, ((Math.min(MC, i1 - i0) + MR - 1) / MR) * MR * kb);
        float[] pb = buffer(packB, part, ((Math.min(NC, j1 - j0) + NR - 1) / NR) * NR * kb);
        float[] t = tile[part];
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += kb) {
                int kc = Math.min(kb, k - pc);
                packB(pb, b, bOff, ldb, transB, pc, kc, jc, nc);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    packA(pa, a, aOff, lda, transA, ic, mc, pc, kc);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int cols = Math.min(NR, nc - jr);
                        int bo = jr * kc;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int rows = Math.min(MR, mc - ir);
                            int ao = ir * kc;
                            int co = cOff + (ic + ir) * ldc + jc + jr;
                            if (rows == MR && cols == NR) {
                                kernel(kc, pa, ao, pb, bo, c, co, ldc);
                            } else {
                                edge(kc, pa, ao, pb, bo, c, co, ldc, rows, cols, t);
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] buffer(float[][] buffers, int part, int size) {
        float[] buf = buffers[part];
        if (buf == null || buf.length < size) {
            buf = new float[size];
            buffers[part] = buf;
        }
        return buf;
    }

    /**
     * Packs {@code op(B)[pc..pc+kc)[jc..jc+nc)} as column tiles of NR: tile t holds, for each p, the NR values
     * {@code op(B)[pc+p][jc+t·NR ..]} contiguously; missing columns are zero.
     */
    private static void packB(float[] pb, float[] b, int bOff, int ldb, boolean transB, int pc, int kc, int jc,
                              int nc) {
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int dst = jr * kc;
            if (!transB) {
                int src = bOff + pc * ldb + jc + jr;
                if (cols == NR) {
                    for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                        FloatVector.fromArray(S, b, src).intoArray(pb, dst);
                        FloatVector.fromArray(S, b, src + W).intoArray(pb, dst + W);
                    }
                } else {
                    for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                        for (int jj = 0; jj < NR; jj++) {
                            pb[dst + jj] = jj < cols ? b[src + jj] : 0f;
                        }
                    }
                }
            } else {
                for (int jj = 0; jj < NR; jj++) {
                    if (jj < cols) {
                        int src = bOff + (jc + jr + jj) * ldb + pc;
                        for (int p = 0; p < kc; p++) {
                            pb[dst + p * NR + jj] = b[src + p];
                        }
                    } else {
                        for (int p = 0; p < kc; p++) {
                            pb[dst + p * NR + jj] = 0f;
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs {@code op(A)[ic..ic+mc)[pc..pc+kc)} as row tiles of MR: tile t holds, for each p, the MR values
     * {@code op(A)[ic+t·MR ..][pc+p]} contiguously; missing rows are zero.
     */
    private static void packA(float[] pa, float[] a, int aOff, int lda, boolean transA, int ic, int mc, int pc,
                              int kc) {
        for (int ir = 0; ir < mc; ir += MR) {
            int rows = Math.min(MR, mc - ir);
            int dst = ir * kc;
            if (transA) {
                int src = aOff + pc * lda + ic + ir;
                for (int p = 0; p < kc; p++, src += lda, dst += MR) {
                    for (int r = 0; r < MR; r++) {
                        pa[dst + r] = r < rows ? a[src + r] : 0f;
                    }
                }
            } else {
                for (int r = 0; r < MR; r++) {
                    if (r < rows) {
                        int src = aOff + (ic + ir + r) * lda + pc;
                        for (int p = 0; p < kc; p++) {
                            pa[dst + p * MR + r] = a[src + p];
                        }
                    } else {
                        for (int p = 0; p < kc; p++) {
                            pa[dst + p * MR + r] = 0f;
                        }
                    }
                }
            }
        }
    }

    /** A partial tile: its real outputs go through the tile buffer t (ld NR) and back; padding is discarded. */
    private static void edge(int kc, float[] pa, int ao, float[] pb, int bo, float[] c, int co, int ldc, int rows,
                             int cols, float[] t) {
        for (int r = 0; r < MR; r++) {
            for (int jj = 0; jj < NR; jj++) {
                t[r * NR + jj] = r < rows && jj < cols ? c[co + r * ldc + jj] : 0f;
            }
        }
        kernel(kc, pa, ao, pb, bo, t, 0, NR);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(t, r * NR, c, co + r * ldc, cols);
        }
    }

    /**
     * The 5×16 micro-kernel: {@code C[r][j] = fma(A[r][p], B[p][j], C[r][j])} for p = 0..kc-1 in order, with the
     * ten accumulators loaded from C first and stored back at the end.
     */
    private static void kernel(int kc, float[] a, int ao, float[] b, int bo, float[] c, int co, int ldc) {
        int c1 = co + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        int c4 = c3 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, co);
        FloatVector c01 = FloatVector.fromArray(S, c, co + W);
        FloatVector c10 = FloatVector.fromArray(S, c, c1);
        FloatVector c11 = FloatVector.fromArray(S, c, c1 + W);
        FloatVector c20 = FloatVector.fromArray(S, c, c2);
        FloatVector c21 = FloatVector.fromArray(S, c, c2 + W);
        FloatVector c30 = FloatVector.fromArray(S, c, c3);
        FloatVector c31 = FloatVector.fromArray(S, c, c3 + W);
        FloatVector c40 = FloatVector.fromArray(S, c, c4);
        FloatVector c41 = FloatVector.fromArray(S, c, c4 + W);
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * MR;
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + W);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ap + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + W);
        c10.intoArray(c, c1);
        c11.intoArray(c, c1 + W);
        c20.intoArray(c, c2);
        c21.intoArray(c, c2 + W);
        c30.intoArray(c, c3);
        c31.intoArray(c, c3 + W);
        c40.intoArray(c, c4);
        c41.intoArray(c, c4 + W);
    }
}
