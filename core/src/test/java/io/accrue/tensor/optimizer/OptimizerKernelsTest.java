package io.accrue.tensor.optimizer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The optimizer family's update kernels: vector bits equal scalar bits. */
class OptimizerKernelsTest {

    private static float[] grid(float lo, float hi, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = lo + (hi - lo) * i / (n - 1);
        }
        return x;
    }

    /** Raw bits of a float array. */
    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    /** The AdamW update: vector bits equal the scalar oracle's, for ragged ranges and extreme gradients. */
    @Test
    void vectorAdamWEqualsScalarBits() {
        int n = 1003;
        float[] g = grid(-3f, 5f, n);
        g[7] = 1e-30f;
        g[8] = 3e18f;
        g[9] = -0f;
        float[] w0 = grid(1f, -2f, n);
        float[] m0 = grid(-0.1f, 0.2f, n);
        float[] v0 = grid(0f, 0.5f, n);
        for (int[] range : new int[][] {{0, n}, {3, 500}, {1, 9}}) {
            float[][] fast = {w0.clone(), m0.clone(), v0.clone()};
            float[][] slow = {w0.clone(), m0.clone(), v0.clone()};
            for (int step = 0; step < 3; step++) { // the moments feed back
                OptimizerKernels.adamW(fast[0], fast[1], fast[2], g, range[0], range[1], 0.9999f, 0.9f, 0.1f, 0.95f,
                        0.05f, 0.2236068f, 1e-8f, 6e-4f);
                OptimizerKernels.adamWScalar(slow[0], slow[1], slow[2], g, range[0], range[1], 0.9999f, 0.9f, 0.1f,
                        0.95f, 0.05f, 0.2236068f, 1e-8f, 6e-4f);
            }
            for (int b = 0; b < 3; b++) {
                assertArrayEquals(bits(slow[b]), bits(fast[b]),
                        "buffer " + b + " over " + range[0] + ".." + range[1]);
            }
        }
    }
}
