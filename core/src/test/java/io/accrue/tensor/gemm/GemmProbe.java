package io.accrue.tensor.gemm;

import java.util.Arrays;
import java.util.SplittableRandom;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.attention.AttentionKernels;

/**
 * Run by {@link GemmTest} in a child JVM, where the kernel's set-up is decided once per process: without
 * {@code --add-modules jdk.incubator.vector} (the scalar fallback), or with {@code -Daccrue.gemm.vectorBits}
 * forcing a vector width the machine would not pick. Prints whether Gemm vectorized, its vector width, and
 * whether every case gave the oracle's bits — the GEMM's and those of attention's products, whose widest block
 * takes the GEMM's vector width.
 */
final class GemmProbe {
    /** m, n, k: ragged tiles, a few rows (the swapped form), a k of several blocks, an empty product. */
    private static final int[][] SHAPES = {{9, 21, 13}, {3, 70, 40}, {37, 45, 800}, {70, 33, 17}, {0, 21, 13}};
    /** Attention products, m, n, k: wide blocks with 8- and 16-column remainders, every band. */
    private static final int[][] ATTENTION_SHAPES = {{13, 70, 29}, {37, 37, 37}};

    private GemmProbe() {
    }

    public static void main(String[] args) {
        boolean equal = true;
        int bits;
        try (Parallel parallel = new Parallel(2)) {
            Gemm gemm = new Gemm(parallel);
            bits = gemm.vectorBits();
            SplittableRandom random = new SplittableRandom(7);
            for (int[] shape : SHAPES) {
                for (int form = 0; form < 4; form++) {
                    equal &= matchesOracle(gemm, shape[0], shape[1], shape[2], form / 2 == 1, form % 2 == 1, random);
                }
            }
            for (int[] shape : ATTENTION_SHAPES) {
                for (int band = 0; band < 4; band++) {
                    equal &= attentionMatchesOracle(shape[0], shape[1], shape[2], band, random);
                }
            }
            System.out.println("vectorized=" + gemm.vectorized() + " bits=" + bits + " equal=" + equal);
        }
    }

    private static boolean matchesOracle(Gemm gemm, int m, int n, int k, boolean transA, boolean transB,
                                         SplittableRandom random) {
        float[] a = values(m * k, random);
        float[] b = values(k * n, random);
        float[] c = values(m * n, random);
        float[] expected = c.clone();
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        GemmReference.multiply(expected, 0, n, a, 0, lda, transA, b, 0, ldb, transB, m, n, k);
        gemm.multiply(Matrix.of(c, 0, m, n), new Matrix(a, 0, lda, m, k, transA),
                new Matrix(b, 0, ldb, k, n, transB));
        return Arrays.equals(c, expected);
    }

    private static boolean attentionMatchesOracle(int m, int n, int k, int band, SplittableRandom random) {
        float[] a = values(m * k, random);
        float[] b = values(k * n, random);
        float[] fast = values(m * n, random);
        float[] slow = fast.clone();
        AttentionKernels.multiply(fast, 0, n, true, a, 0, k, 1, b, 0, n, m, n, k, band, 0);
        AttentionKernels.multiplyScalar(slow, 0, n, true, a, 0, k, 1, b, 0, n, m, n, k, band, 0);
        return Arrays.equals(fast, slow);
    }

    private static float[] values(int size, SplittableRandom random) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return x;
    }
}
