package io.accrue.tensor.elementwise;

/**
 * A deterministic float exp, the scalar oracle of {@link VectorExp}: every element is computed alone by the same
 * sequence of IEEE-exact operations (add, sub, mul, fma, min, max, integer bit operations), so the result for a
 * given x has the same bits in every lane, at every position, in the Vector API path and the scalar path,
 * interpreted or compiled. The Vector API's own EXP/TANH are not used: their compiled and interpreted results may
 * differ. GELU, the exp sums of cross-entropy and attention's softmax rows all go through it.
 */
public final class Exp {
    // exp: x clamped to [EXP_LO, EXP_HI] (0 below it), x = n·ln2 + r with n = round(x·log2 e), e^r by a degree-7
    // polynomial (Cephes expf), times 2^n built from the exponent bits.
    static final float EXP_LO = -87.3f;
    static final float EXP_HI = 88.3f;
    /** Probabilities below this are 0 ({@link #flushNegligible}). */
    public static final float NEGLIGIBLE = 0x1p-64f;
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

    private Exp() {
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
     * cannot set the FTZ/DAZ flags, and PyTorch users set {@code torch.set_flush_denormal} for the same reason),
     * which slows a converged run's backward several times over. Below 2^−64 a probability changes nothing: in a sum
     * with the row's largest probability (≥ 1/len) it is below float resolution, and the gradient it seeds moves
     * AdamW's weights by less than lr·2^−64/eps.
     */
    public static float flushNegligible(float p) {
        return p < NEGLIGIBLE ? 0f : p;
    }
}
