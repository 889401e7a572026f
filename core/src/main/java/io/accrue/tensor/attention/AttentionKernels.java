package io.accrue.tensor.attention;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.VectorApi;
import io.accrue.tensor.elementwise.Exp;

/**
 * The dispatcher and scalar oracles of the attention family: small-matrix kernels of causal self-attention for one
 * (example, head) pair — a register-blocked product with causal bands, a transpose, and the softmax rows forward
 * and backward. Outputs first, then inputs (STYLE 5).
 *
 * <p>Every output has one fixed evaluation order that depends only on its own indices and the sizes, never on
 * the batch or the thread count. {@link #multiply} computes each output as one fma chain along p, ascending,
 * from the value in C (or from +0). Row sums (softmax denominator, the softmax-backward dot) keep 8 lane
 * partials over the chunks of 8 columns, combine them as {@code ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7))}, then add
 * the tail columns in ascending order; only IEEE-exact lanewise operations are used, so interpreted and
 * compiled code, and the Vector API path ({@link VectorAttention}) and the scalar code here, give the same bits. The
 * scalar methods named {@code *Scalar} are the oracle; the public methods run the Vector API kernels when
 * {@code jdk.incubator.vector} is present and the scalar ones otherwise.
 *
 * <p>The kernels are static but {@link #transpose}, whose vector body (AVX-512) gathers through an index map: it is
 * a method of an instance that owns one map per thread part, allocated once — a {@link io.accrue.tensor.Compute}
 * holds one for its team — and the caller passes the index of the part it runs in ({@link Parallel.PartRange}; 0
 * on a caller's own thread). Like the team, an instance serves one caller at a time.
 */
public final class AttentionKernels {
    /** Rows of a register block: output rows are handled in blocks [i0, i0 + MR) with i0 a multiple of MR. */
    public static final int MR = 4;
    /** Columns of a register block: two 8-float vectors. */
    public static final int NR = 16;
    /** Lanes of the row sums' partials. */
    static final int LANES = 8;

    /*
     * The bands below are stated for a diagonal d (the multiply's last argument): row i of A (or C) meets the
     * diagonal at p = i + d (column j = i + d for CAUSAL_COLUMNS). d = 0 for whole (T, T) matrices; a block of rows
     * that starts at row r0 of the whole has d = r0, and a block of p that starts at p0 has d = −p0, so each output
     * keeps the p range, and the chain, it has in the whole matrix.
     */
    /** All p in [0, k), all columns. */
    public static final int FULL = 0;
    /**
     * Causal columns: row block [i0, i0 + MR) computes columns {@code [0, min(n, roundUp(i0 + d + MR, NR)))}
     * only; columns j &gt; i + d among them hold values the caller must overwrite (they do not enter other outputs).
     */
    public static final int CAUSAL_COLUMNS = 1;
    /**
     * A is lower triangular (A(i, p) = 0 for p &gt; i + d): row block [i0, i0 + MR) runs p in
     * {@code [0, clamp(i0 + d + MR, 0, k))}.
     */
    public static final int LOWER = 2;
    /**
     * A is upper triangular (A(i, p) = 0 for p &lt; i + d): row block [i0, i0 + MR) runs p in
     * {@code [clamp(i0 + d, 0, k), k)}.
     */
    public static final int UPPER = 3;

    private static final boolean VECTOR = VectorApi.AVAILABLE;
    /** The most lanes of a float vector (512 bits): the length of a gather index map. */
    private static final int MAX_LANES = 16;

    /** Per thread part, the gathers' index map of {@link #transpose}. */
    private final int[][] gatherRows;

    /** The index maps of a team of {@code parts} thread parts, allocated here once (none without the Vector API). */
    public AttentionKernels(int parts) {
        if (parts < 1) {
            throw new IllegalArgumentException("parts must be at least 1, got " + parts);
        }
        gatherRows = new int[parts][];
        for (int p = 0; p < parts && VECTOR; p++) {
            gatherRows[p] = new int[MAX_LANES];
        }
    }

    /**
     * {@code C[i][j] = (accumulate ? C[i][j] : 0) + Σ_p A(i, p)·B[p][j]} for i in [0, m), j in [0, n), with
     * {@code A(i, p) = a[aOff + i·aRow + p·aCol]} (either layout, so Aᵀ needs no copy), {@code B[p][j] =
     * b[bOff + p·ldb + j]}, {@code C[i][j] = c[cOff + i·ldc + j]}, and the p range and columns of each row block
     * set by {@code band} ({@link #FULL}, {@link #CAUSAL_COLUMNS}, {@link #LOWER}, {@link #UPPER}) about the
     * diagonal {@code p = i + diagonal}. Each output is one fma chain along p ascending.
     */
    public static void multiply(float[] c, int cOff, int ldc, boolean accumulate,
                                float[] a, int aOff, int aRow, int aCol,
                                float[] b, int bOff, int ldb,
                                int m, int n, int k, int band, int diagonal) {
        if (VECTOR) {
            VectorAttention.multiply(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, band,
                    diagonal);
        } else {
            multiplyScalar(c, cOff, ldc, accumulate, a, aOff, aRow, aCol, b, bOff, ldb, m, n, k, band, diagonal);
        }
    }

    /** The oracle of {@link #multiply}: one plain {@code Math.fma} chain per output. */
    public static void multiplyScalar(float[] c, int cOff, int ldc, boolean accumulate,
                                      float[] a, int aOff, int aRow, int aCol,
                                      float[] b, int bOff, int ldb,
                                      int m, int n, int k, int band, int diagonal) {
        for (int i = 0; i < m; i++) {
            int i0 = i - i % MR + diagonal; // the row block's start, on the diagonal's scale
            int p0 = pFrom(band, i0, k);
            int p1 = pTo(band, i0, k);
            int n1 = columns(band, i0, n);
            for (int j = 0; j < n1; j++) {
                int ci = cOff + i * ldc + j;
                float s = accumulate ? c[ci] : 0f;
                for (int p = p0; p < p1; p++) {
                    s = Math.fma(a[aOff + i * aRow + p * aCol], b[bOff + p * ldb + j], s);
                }
                c[ci] = s;
            }
        }
    }

    /** The first p of a row block whose start, plus the diagonal, is {@code i0}. */
    static int pFrom(int band, int i0, int k) {
        return band == UPPER ? Math.clamp(i0, 0, k) : 0;
    }

    /** The end of the p range of a row block whose start, plus the diagonal, is {@code i0}. */
    static int pTo(int band, int i0, int k) {
        return band == LOWER ? Math.clamp(i0 + MR, 0, k) : k;
    }

    /** The columns computed by a row block whose start, plus the diagonal, is {@code i0}. */
    static int columns(int band, int i0, int n) {
        return band == CAUSAL_COLUMNS ? Math.min(n, (i0 + MR + NR - 1) / NR * NR) : n;
    }

    /** {@code dst[dOff + i·ldDst + j] = src[sOff + i·ldSrc + j]} for i in [0, rows), j in [0, cols). */
    public static void copy(float[] dst, int dOff, int ldDst, float[] src, int sOff, int ldSrc, int rows, int cols) {
        for (int i = 0; i < rows; i++) {
            System.arraycopy(src, sOff + i * ldSrc, dst, dOff + i * ldDst, cols);
        }
    }

    /**
     * {@code dst[dOff + j·ldDst + i] = src[sOff + i·ldSrc + j]} for i in [0, rows), j in [0, cols), in thread part
     * {@code part}'s index map.
     */
    public void transpose(int part, float[] dst, int dOff, int ldDst, float[] src, int sOff, int ldSrc, int rows,
                          int cols) {
        int done = VECTOR
                ? VectorAttention.transposeRows(dst, dOff, ldDst, src, sOff, ldSrc, rows, cols, gatherRows[part]) : 0;
        transposeScalar(dst, dOff + done, ldDst, src, sOff + done * ldSrc, ldSrc, rows - done, cols);
    }

    /** The scalar {@link #transpose}: element by element. */
    static void transposeScalar(float[] dst, int dOff, int ldDst, float[] src, int sOff, int ldSrc, int rows,
                                int cols) {
        for (int i = 0; i < rows; i++) {
            int si = sOff + i * ldSrc;
            for (int j = 0; j < cols; j++) {
                dst[dOff + j * ldDst + i] = src[si + j];
            }
        }
    }

    /**
     * One causal softmax row in place: {@code s[j] ← s[j]·scale}, then {@code p[j] = e[j]·(1/Σe)} with
     * {@code e[j] = exp(s[j] − max)} ({@link Exp#exp}), {@link Exp#flushNegligible flushed}, for j
     * in [0, len); {@code s[j] = 0} for j in [len, width). The row's statistics, its log-sum-exp in two parts,
     * go to {@code stats[statsOff] = max} and {@code stats[statsOff + 1] = 1/Σe}: {@link #probabilityRow} rebuilds
     * the row's bits from them and the scores.
     */
    public static void softmaxRow(float[] s, int off, int len, int width, float scale, float[] stats,
                                  int statsOff) {
        if (VECTOR) {
            VectorAttention.softmaxRow(s, off, len, width, scale, stats, statsOff);
        } else {
            softmaxRowScalar(s, off, len, width, scale, stats, statsOff);
        }
    }

    /** The oracle of {@link #softmaxRow}. */
    public static void softmaxRowScalar(float[] s, int off, int len, int width, float scale, float[] stats,
                                        int statsOff) {
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            float v = s[off + j] * scale;
            s[off + j] = v;
            max = Math.max(max, v);
        }
        float[] part = new float[LANES];
        int bound = len - len % LANES;
        for (int j = 0; j < bound; j++) {
            float e = Exp.exp(s[off + j] - max);
            s[off + j] = e;
            part[j % LANES] += e;
        }
        float sum = combine(part);
        for (int j = bound; j < len; j++) {
            float e = Exp.exp(s[off + j] - max);
            s[off + j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        normalize(s, off, len, width, inv);
        stats[statsOff] = max;
        stats[statsOff + 1] = inv;
    }

    /**
     * The probabilities of a causal row rebuilt in place from its scores and the statistics {@link #softmaxRow}
     * saved: {@code s[j] ← flush(exp(s[j]·scale − max)·inv)} for j in [0, len), {@code s[j] = 0} for j in
     * [len, width) — the bits {@link #softmaxRow} gave for the same scores.
     */
    public static void probabilityRow(float[] s, int off, int len, int width, float scale, float[] stats,
                                      int statsOff) {
        if (VECTOR) {
            VectorAttention.probabilityRow(s, off, len, width, scale, stats[statsOff], stats[statsOff + 1]);
        } else {
            probabilityRowScalar(s, off, len, width, scale, stats, statsOff);
        }
    }

    /** The oracle of {@link #probabilityRow}. */
    public static void probabilityRowScalar(float[] s, int off, int len, int width, float scale, float[] stats,
                                            int statsOff) {
        float max = stats[statsOff];
        for (int j = 0; j < len; j++) {
            s[off + j] = Exp.exp(s[off + j] * scale - max);
        }
        normalize(s, off, len, width, stats[statsOff + 1]);
    }

    /** {@code s[j] ← flush(s[j]·inv)} for j in [0, len), {@code s[j] = 0} for j in [len, width). */
    private static void normalize(float[] s, int off, int len, int width, float inv) {
        for (int j = 0; j < len; j++) {
            s[off + j] = Exp.flushNegligible(s[off + j] * inv);
        }
        for (int j = len; j < width; j++) {
            s[off + j] = 0f;
        }
    }

    /**
     * Softmax backward of one causal row in place: with p the probabilities and g their gradient,
     * {@code g[j] ← p[j]·(g[j] − Σ_i p[i]·g[i])·scale} for j in [0, len), {@code g[j] = 0} for j in [len, width).
     */
    public static void softmaxBackwardRow(float[] g, int gOff, float[] p, int pOff, int len, int width,
                                          float scale) {
        if (VECTOR) {
            VectorAttention.softmaxBackwardRow(g, gOff, p, pOff, len, width, scale);
        } else {
            softmaxBackwardRowScalar(g, gOff, p, pOff, len, width, scale);
        }
    }

    /** The oracle of {@link #softmaxBackwardRow}. */
    public static void softmaxBackwardRowScalar(float[] g, int gOff, float[] p, int pOff, int len, int width,
                                                float scale) {
        float[] part = new float[LANES];
        int bound = len - len % LANES;
        for (int j = 0; j < bound; j++) {
            part[j % LANES] = Math.fma(p[pOff + j], g[gOff + j], part[j % LANES]);
        }
        float dot = combine(part);
        for (int j = bound; j < len; j++) {
            dot = Math.fma(p[pOff + j], g[gOff + j], dot);
        }
        for (int j = 0; j < len; j++) {
            g[gOff + j] = p[pOff + j] * (g[gOff + j] - dot) * scale;
        }
        for (int j = len; j < width; j++) {
            g[gOff + j] = 0f;
        }
    }

    /** The fixed combination of 8 lane partials. */
    static float combine(float[] l) {
        return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }
}
