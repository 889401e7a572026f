package io.accrue.tensor;

import java.util.Arrays;

/**
 * Run by {@link GemmTest} in a child JVM started without {@code --add-modules jdk.incubator.vector}: prints
 * whether Gemm vectorized and whether its result equals the oracle's bits.
 */
final class GemmFallbackProbe {
    private GemmFallbackProbe() {
    }

    public static void main(String[] args) {
        int m = 9;
        int n = 21;
        int k = 13;
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        float[] c = new float[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) Math.sin(i * 0.7);
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) Math.cos(i * 1.3);
        }
        for (int i = 0; i < c.length; i++) {
            c[i] = (float) Math.sin(i * 0.1);
        }
        float[] expected = c.clone();
        GemmReference.multiply(expected, 0, n, a, 0, k, false, b, 0, n, false, m, n, k);
        try (Parallel parallel = new Parallel(2)) {
            Gemm gemm = new Gemm(parallel);
            gemm.multiply(c, 0, n, a, 0, k, false, b, 0, n, false, m, n, k);
            gemm.multiply(c, 0, n, a, 0, k, false, b, 0, n, false, 0, n, k);
            System.out.println("vectorized=" + gemm.vectorized() + " equal=" + Arrays.equals(c, expected));
        }
    }
}
