package io.accrue.tensor.elementwise;

import java.util.Arrays;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.Tensor;
import io.accrue.tensor.VectorApi;

import static io.accrue.tensor.elementwise.Exp.NEGLIGIBLE;
import static io.accrue.tensor.elementwise.Exp.exp;
import static io.accrue.tensor.elementwise.Exp.flushNegligible;

/**
 * The dispatcher and scalar oracles of the elementwise family: GELU and its gradient, adds, column sums over rows,
 * zeroing, and the softmax rows of cross-entropy (max, exp sums, probabilities added into a gradient). Every
 * element is computed alone by the same sequence of IEEE-exact operations, with the deterministic {@link Exp}, so
 * the result has the same bits in every lane, at every position, on the Vector API path ({@link VectorElementwise})
 * and the scalar one. Outputs first, then inputs (STYLE 5). The {@code *Scalar} methods are the oracle.
 *
 * <p>Most kernels are static. Those whose vector body stages exp's arguments in scratch ({@link #geluBackward},
 * {@link #expSum}, {@link #softmaxAdd}) are methods of an instance that owns that scratch, one buffer per thread
 * part, allocated once: a {@link io.accrue.tensor.Compute} holds one for its team, and a caller passes the index
 * of the part it runs in ({@link Parallel.PartRange}; 0 on a caller's own thread). Like the team, an instance
 * serves one caller at a time.
 *
 * <p>Column sums over rows ({@link #addRowSums}) are sums over examples: one ordered chain per column that starts
 * from the output's value (law 3); threads split the columns.
 */
public final class Elementwise {
    private static final boolean VECTOR = VectorApi.AVAILABLE;

    /** Elements per pass of the kernels that stage exp's arguments: a few KB, so the passes stay in L1. */
    static final int CHUNK = 512;
    /** Elements per thread part below which filling runs on the caller alone (a wake-up costs more). */
    private static final int FILL_GRAIN = 1 << 15;

    // GELU (tanh form) as x·σ(2u): y = x / (1 + e), e = exp(−2u), u = √(2/π)·(x + 0.044715·x³).
    static final float GELU_C = 0.044715f;
    static final float GELU_3C = 3f * 0.044715f;
    static final float GELU_2K = (float) (2.0 * Math.sqrt(2.0 / Math.PI));
    static final float GELU_M2K = -GELU_2K;

    /** Per thread part, {@link #CHUNK} floats for exp's arguments where the output cannot hold them. */
    private final float[][] chunks;

    /** The scratch of a team of {@code parts} thread parts, allocated here once (none without the Vector API). */
    public Elementwise(int parts) {
        if (parts < 1) {
            throw new IllegalArgumentException("parts must be at least 1, got " + parts);
        }
        chunks = new float[parts][];
        for (int p = 0; p < parts && VECTOR; p++) {
            chunks[p] = new float[CHUNK];
        }
    }

    // ---- GELU

    /** GELU of one element, {@code x / (1 + exp(−2u))} = {@code ½·x·(1 + tanh u)}. */
    public static float gelu(float x) {
        float v = Math.fma(GELU_C * (x * x), x, x);
        return x / (1f + exp(v * GELU_M2K));
    }

    /**
     * The GELU derivative of one element: with e = exp(−2u), s = 1/(1 + e):
     * {@code s·(1 + 2·√(2/π)·x·(1 + 3·0.044715·x²)·e·s)}; 0 where s &lt; 2^−64 (x below about −7.6), the
     * factor that would otherwise make the gradient subnormal further out ({@link Exp#flushNegligible}).
     */
    public static float geluGrad(float x) {
        float x2 = x * x;
        float v = Math.fma(GELU_C * x2, x, x);
        float e = exp(v * GELU_M2K);
        boolean negligible = e > 1f / NEGLIGIBLE;
        e = Math.min(e, 1f / NEGLIGIBLE);
        float s = 1f / (1f + e);
        float es = e * s;
        float q = GELU_2K * x * Math.fma(GELU_3C, x2, 1f) * es;
        return negligible ? 0f : Math.fma(s, q, s);
    }

    /**
     * {@code y[i] = gelu(x[i])} for i in [0, n). y must not overlap x (the vector path stages exp's argument in y).
     */
    public static void gelu(float[] y, int yOff, float[] x, int xOff, int n) {
        if (VECTOR) {
            VectorElementwise.gelu(y, yOff, x, xOff, n);
        } else {
            geluScalar(y, yOff, x, xOff, n);
        }
    }

    /** The oracle of {@link #gelu(float[], int, float[], int, int)}. */
    public static void geluScalar(float[] y, int yOff, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] = gelu(x[xOff + i]);
        }
    }

    /**
     * {@code dx[i] = fma(dy[i], geluGrad(x[i]), accumulate ? dx[i] : +0)} for i in [0, n): without accumulating,
     * the bits of accumulating onto zeros, without reading them (a fresh gradient needs no zeroing pass). Runs in
     * thread part {@code part}'s scratch.
     */
    public void geluBackward(int part, float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff, float[] x,
                             int xOff, int n) {
        if (VECTOR) {
            VectorElementwise.geluBackward(dx, dxOff, accumulate, dy, dyOff, x, xOff, n, chunks[part]);
        } else {
            geluBackwardScalar(dx, dxOff, accumulate, dy, dyOff, x, xOff, n);
        }
    }

    /** The oracle of {@link #geluBackward}. */
    public static void geluBackwardScalar(float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff,
                                          float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) {
            dx[dxOff + i] = Math.fma(dy[dyOff + i], geluGrad(x[xOff + i]), accumulate ? dx[dxOff + i] : 0f);
        }
    }

    // ---- adds, column sums, zeroing

    /**
     * {@code y[yOff + i] = a[aOff + i] + b[bOff + i]} for i in [0, n); y may be a or b itself (same offset), as
     * {@code out += in} is. C2 leaves the plain loop scalar: with three offsets into what may be one array (the
     * arena), it cannot rule out overlap.
     */
    public static void add(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n) {
        if (VECTOR) {
            VectorElementwise.add(y, yOff, a, aOff, b, bOff, n);
        } else {
            addScalar(y, yOff, a, aOff, b, bOff, n);
        }
    }

    /** The oracle of {@link #add}. */
    public static void addScalar(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] = a[aOff + i] + b[bOff + i];
        }
    }

    /**
     * {@code out[oOff + j] += Σ_r x[xOff + r·ld + j]} for j in [j0, j1), r in [0, rows) ascending: one chain per
     * column (a bias gradient, law 3). The vector path keeps a block of columns in registers over all rows, which
     * the scalar loop (one pass over out per row, left scalar by C2 for the reason {@link #add} gives) does not.
     */
    public static void addColumnSums(float[] out, int oOff, float[] x, int xOff, int ld, int rows, int j0, int j1) {
        if (VECTOR) {
            // In blocks of rows: each column's chain goes on through out, so the adds and their order are the
            // same, but the JIT sees calls it counts. A few calls of thousands of rows a step (small at B = 32: 24
            // calls of 8,192) never reached C2's 600 calls, and ran C1's code, which boxes every vector: 72 MB of
            // heap a step.
            for (int r0 = 0; r0 < rows; r0 += SUM_ROW_BLOCK) {
                VectorElementwise.addColumnSums(out, oOff, x, xOff + r0 * ld, ld, Math.min(SUM_ROW_BLOCK, rows - r0),
                        j0, j1);
            }
        } else {
            addColumnSumsScalar(out, oOff, x, xOff, ld, rows, j0, j1);
        }
    }

    /** Rows per call of the vector column sums ({@link #addColumnSums}). */
    private static final int SUM_ROW_BLOCK = 256;

    /** The oracle of {@link #addColumnSums}. */
    public static void addColumnSumsScalar(float[] out, int oOff, float[] x, int xOff, int ld, int rows, int j0,
                                           int j1) {
        for (int r = 0; r < rows; r++) {
            int base = xOff + r * ld;
            for (int j = j0; j < j1; j++) {
                out[oOff + j] += x[base + j];
            }
        }
    }

    /** {@code out[j] += Σ_r in[r][j]} for r ascending, the columns split over the team; in is (rows, cols), out (cols). */
    public static void addRowSums(Parallel parallel, Tensor out, Tensor in) {
        int cols = in.cols();
        int rows = in.rows();
        if (out.size() != cols) {
            throw new IllegalArgumentException("row sums of " + in + " need an output of " + cols + " elements, got "
                    + out);
        }
        float[] o = out.data();
        float[] x = in.data();
        int oo = out.offset();
        int xo = in.offset();
        parallel.forRange(cols, Math.max(8, FILL_GRAIN / Math.max(1, rows)),
                (from, to) -> addColumnSums(o, oo, x, xo, cols, rows, from, to));
    }

    /**
     * Zeroes {@code data[offset, offset + n)} over the team. Memory-bound, but on the caller alone it would leave the
     * other threads idle between two kernels.
     */
    public static void zero(Parallel parallel, float[] data, int offset, int n) {
        parallel.forRange(n, FILL_GRAIN, (from, to) -> Arrays.fill(data, offset + from, offset + to, 0f));
    }

    // ---- softmax rows of cross-entropy

    /** The largest of {@code x[xOff .. xOff + n)} (−∞ for n = 0); max is exact, so any order gives these bits. */
    public static float max(float[] x, int xOff, int n) {
        return VECTOR ? VectorElementwise.max(x, xOff, n) : maxScalar(x, xOff, n);
    }

    /** The oracle of {@link #max}. */
    public static float maxScalar(float[] x, int xOff, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            m = Math.max(m, x[xOff + j]);
        }
        return m;
    }

    /**
     * {@code Σ_j exp(x[j] − shift)} for j in [0, n) ascending: each term is the float {@link Exp#exp}, widened to
     * double and added in column order, so the sum has the same bits on every path; double keeps it accurate
     * for long rows (a float sum of V terms would lose up to ~log2(V) bits). Runs in thread part {@code part}'s
     * scratch.
     */
    public double expSum(int part, float[] x, int xOff, int n, float shift) {
        return VECTOR ? VectorElementwise.expSum(x, xOff, n, shift, chunks[part]) : expSumScalar(x, xOff, n, shift);
    }

    /** The oracle of {@link #expSum}. */
    public static double expSumScalar(float[] x, int xOff, int n, float shift) {
        double sum = 0;
        for (int j = 0; j < n; j++) {
            sum += exp(x[xOff + j] - shift);
        }
        return sum;
    }

    /**
     * {@code g[j] += exp(x[j] − shift) / sum} for j in [0, n), each probability {@link Exp#flushNegligible flushed}: a
     * softmax row added into a gradient row. Runs in thread part {@code part}'s scratch.
     */
    public void softmaxAdd(int part, float[] g, int gOff, float[] x, int xOff, int n, float shift, float sum) {
        if (VECTOR) {
            VectorElementwise.softmaxAdd(g, gOff, x, xOff, n, shift, sum, chunks[part]);
        } else {
            softmaxAddScalar(g, gOff, x, xOff, n, shift, sum);
        }
    }

    /** The oracle of {@link #softmaxAdd}. */
    public static void softmaxAddScalar(float[] g, int gOff, float[] x, int xOff, int n, float shift, float sum) {
        for (int j = 0; j < n; j++) {
            g[gOff + j] += flushNegligible(exp(x[xOff + j] - shift) / sum);
        }
    }
}
