package io.accrue.tensor.optimizer;

import io.accrue.tensor.VectorApi;

/**
 * The dispatcher and scalar oracle of the optimizer family: the fused update an optimizer runs over its flat
 * buffers (law 1) at the step boundary. Every element is updated alone, so any split of the range over threads
 * gives the same bits, and the Vector API body ({@link VectorOptimizer}) gives the oracle's bits. Outputs (the
 * buffers updated in place) first, then inputs (STYLE 5).
 */
public final class OptimizerKernels {
    private static final boolean VECTOR = VectorApi.AVAILABLE;

    private OptimizerKernels() {
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
            VectorOptimizer.adamW(w, m, v, g, from, to, decay, beta1, c1, beta2, c2, bc2Sqrt, eps, stepSize);
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
}
