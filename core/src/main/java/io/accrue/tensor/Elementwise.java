package io.accrue.tensor;

/**
 * Elementwise float kernels with a deterministic exp: every element is computed alone by the same sequence of
 * IEEE-exact operations (add, sub, mul, div, fma, min, max, integer bit operations), so the result for a given x
 * has the same bits in every lane, at every position, in the Vector API path and the scalar path, interpreted or
 * compiled. The Vector API's own EXP/TANH are not used: their compiled and interpreted results may differ.
 * Outputs first, then inputs (STYLE 5). The {@code *Scalar} methods are the oracle.
 */
public final class Elementwise {
    private static final boolean VECTOR = Gemm.VECTOR_AVAILABLE;

    // exp: x clamped to [EXP_LO, EXP_HI] (0 below it), x = n·ln2 + r with n = round(x·log2 e), e^r by a degree-7 polynomial
    // (Cephes expf), times 2^n built from the exponent bits.
    static final float EXP_LO = -87.3f;
    static final float EXP_HI = 88.3f;
    /** Probabilities below this are 0 ({@link #flushNegligible}). */
    static final float NEGLIGIBLE = 0x1p-64f;
    static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2^23: adding it rounds a float of magnitude &lt; 2^22 to an integer (ties to even). */
    static final float ROUND = 12582912f;
    static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    static final float P0 = 1.9875691500e-4f;
    static final float P1 = 1.3981999507e-3f;
    static final float P2 = 8.3334519073e-3f;
    static final float P3 = 4.1665795894e-2f;
    static final float P4 = 1.6666665459e-1f;
    static final float P5 = 5.0000001201e-1f;

    // GELU (tanh form) as x·σ(2u): y = x / (1 + e), e = exp(−2u), u = √(2/π)·(x + 0.044715·x³).
    static final float GELU_C = 0.044715f;
    static final float GELU_3C = 3f * 0.044715f;
    static final float GELU_2K = (float) (2.0 * Math.sqrt(2.0 / Math.PI));
    static final float GELU_M2K = -GELU_2K;

    private Elementwise() {
    }

    /**
     * e^x with a relative error of a few ulp for x in [−87.3, 88.3]; 0 below that range (where e^x would be
     * subnormal or underflow), ≈ 2.1e38 above it instead of ∞; NaN gives NaN.
     */
    public static float exp(float x) {
        float c = Math.min(Math.max(x, EXP_LO), EXP_HI);
        float t = Math.fma(c, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, c);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float e = Math.fma(p, r * r, r) + 1f;
        int bits = (Float.floatToRawIntBits(t) - ROUND_BITS + 127) << 23;
        return x < EXP_LO ? 0f : e * Float.intBitsToFloat(bits);
    }

    /**
     * 0 for a probability p below {@link #NEGLIGIBLE} = 2^−64, else p. A confident model's softmax rows are full of
     * probabilities of 1e−30 and less; the gradients they seed shrink further through every layer until they are
     * subnormal, and every FMA that reads or makes a subnormal float costs a microcode assist (~100× an FMA; Java
     * cannot set the FTZ/DAZ flags, and PyTorch users set {@code torch.set_flush_denormal} for the same reason): a
     * converged run's backward ran 3–5× slower. Below 2^−64 a probability changes nothing: in a sum with the row's
     * largest probability (≥ 1/len) it is below float resolution, and the gradient it seeds moves AdamW's weights
     * by less than lr·2^−64/eps.
     */
    public static float flushNegligible(float p) {
        return p < NEGLIGIBLE ? 0f : p;
    }

    /** GELU of one element, {@code x / (1 + exp(−2u))} = {@code ½·x·(1 + tanh u)}. */
    public static float gelu(float x) {
        float v = Math.fma(GELU_C * (x * x), x, x);
        return x / (1f + exp(v * GELU_M2K));
    }

    /**
     * The GELU derivative of one element: with e = exp(−2u), s = 1/(1 + e):
     * {@code s·(1 + 2·√(2/π)·x·(1 + 3·0.044715·x²)·e·s)}; 0 where s &lt; 2^−64 (x below about −7.6), the
     * factor that would otherwise make the gradient subnormal further out ({@link #flushNegligible}).
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
     * One AdamW update of elements [from, to), in float, each element alone (so any split gives the same bits):
     * <pre>
     *   m = beta1·m + c1·g;  v = beta2·v + c2·g²;  w = w·decay − stepSize·(m / (√v / bc2Sqrt + eps))
     * </pre>
     * with {@code c1 = 1 − beta1}, {@code c2 = 1 − beta2} as the optimizer rounds them. √ is correctly rounded
     * in both paths, so the vector path has the oracle's bits.
     */
    public static void adamW(float[] w, float[] m, float[] v, float[] g, int from, int to, float decay, float beta1,
                             float c1, float beta2, float c2, float bc2Sqrt, float eps, float stepSize) {
        if (VECTOR) {
            VectorKernels.adamW(w, m, v, g, from, to, decay, beta1, c1, beta2, c2, bc2Sqrt, eps, stepSize);
        } else {
            adamWScalar(w, m, v, g, from, to, decay, beta1, c1, beta2, c2, bc2Sqrt, eps, stepSize);
        }
    }

    /** The oracle of {@link #adamW}. */
    public static void adamWScalar(float[] w, float[] m, float[] v, float[] g, int from, int to, float decay,
                                   float beta1, float c1, float beta2, float c2, float bc2Sqrt, float eps,
                                   float stepSize) {
        for (int i = from; i < to; i++) {
            float gi = g[i];
            float mi = beta1 * m[i] + c1 * gi;
            float vi = beta2 * v[i] + c2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            float denom = (float) Math.sqrt(vi) / bc2Sqrt + eps;
            w[i] = w[i] * decay - stepSize * (mi / denom);
        }
    }

    /**
     * {@code y[yOff + i] = a[aOff + i] + b[bOff + i]} for i in [0, n); y may be a or b itself (same offset), as
     * {@code out += in} is. C2 leaves the plain loop scalar: with three offsets into what may be one array (the
     * arena), it cannot rule out overlap, and the 256×384 residual adds of {@code small} ran 1.5× slower.
     */
    public static void add(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n) {
        if (VECTOR) {
            VectorKernels.add(y, yOff, a, aOff, b, bOff, n);
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
     * the scalar loop (one pass over out per row, left scalar by C2 for the reason {@link #add} gives) does not:
     * 4–5× faster on {@code small}'s 256-row gradients.
     */
    public static void addColumnSums(float[] out, int oOff, float[] x, int xOff, int ld, int rows, int j0, int j1) {
        if (VECTOR) {
            VectorKernels.addColumnSums(out, oOff, x, xOff, ld, rows, j0, j1);
        } else {
            addColumnSumsScalar(out, oOff, x, xOff, ld, rows, j0, j1);
        }
    }

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

    /**
     * {@code y[i] = gelu(x[i])} for i in [0, n). y must not overlap x (the vector path stages exp's argument in y).
     */
    public static void gelu(float[] y, int yOff, float[] x, int xOff, int n) {
        if (VECTOR) {
            VectorKernels.gelu(y, yOff, x, xOff, n);
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
     * the bits of accumulating onto zeros, without reading them (a fresh gradient needs no zeroing pass).
     */
    public static void geluBackward(float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff, float[] x,
                                    int xOff, int n) {
        if (VECTOR) {
            VectorKernels.geluBackward(dx, dxOff, accumulate, dy, dyOff, x, xOff, n);
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
    /**
     * {@code Σ_j exp(x[j] − shift)} for j in [0, n) ascending: each term is the float {@link #exp}, widened to
     * double and added in column order, so the sum has the same bits on every path; double keeps it accurate
     * for long rows (a float sum of V terms would lose up to ~log2(V) bits).
     */
    public static double expSum(float[] x, int xOff, int n, float shift) {
        return VECTOR ? VectorKernels.expSum(x, xOff, n, shift) : expSumScalar(x, xOff, n, shift);
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
     * {@code g[j] += exp(x[j] − shift) / sum} for j in [0, n), each probability {@link #flushNegligible flushed}: a
     * softmax row added into a gradient row.
     */
    public static void softmaxAdd(float[] g, int gOff, float[] x, int xOff, int n, float shift, float sum) {
        if (VECTOR) {
            VectorKernels.softmaxAdd(g, gOff, x, xOff, n, shift, sum);
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

    /** The largest of {@code x[xOff .. xOff + n)} (−∞ for n = 0); max is exact, so any order gives these bits. */
    public static float max(float[] x, int xOff, int n) {
        return VECTOR ? VectorKernels.max(x, xOff, n) : maxScalar(x, xOff, n);
    }

    /** The oracle of {@link #max}. */
    public static float maxScalar(float[] x, int xOff, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            m = Math.max(m, x[xOff + j]);
        }
        return m;
    }
}
