package io.accrue.tensor.attention;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The Vector API attention kernels give exactly the bits of their scalar oracles; the oracles are plain chains. */
class AttentionKernelsTest {

    private static float[] random(long seed, int n) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * 2);
        }
        return a;
    }

    private static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    @Test
    void multiplyEqualsTheScalarOracleForEveryBandAndLayout() {
        int[][] sizes = {{1, 1, 1}, {5, 7, 3}, {13, 37, 29}, {16, 32, 16}, {21, 21, 21}, {35, 64, 35}, {8, 9, 40}};
        for (int[] sz : sizes) {
            int m = sz[0];
            int n = sz[1];
            int k = sz[2];
            for (int band = 0; band < 4; band++) {
                for (boolean transA : new boolean[] {false, true}) {
                    for (boolean acc : new boolean[] {false, true}) {
                        int lda = (transA ? m : k) + 3;
                        int ldb = n + 5;
                        int ldc = n + 2;
                        float[] a = random(1, 7 + Math.max(m, k) * lda);
                        float[] b = random(2, 4 + k * ldb);
                        float[] c0 = random(3, 6 + m * ldc);
                        float[] fast = c0.clone();
                        float[] slow = c0.clone();
                        int aRow = transA ? 1 : lda;
                        int aCol = transA ? lda : 1;
                        AttentionKernels.multiply(fast, 6, ldc, acc, a, 7, aRow, aCol, b, 4, ldb, m, n, k, band);
                        AttentionKernels.multiplyScalar(slow, 6, ldc, acc, a, 7, aRow, aCol, b, 4, ldb, m, n, k,
                                band);
                        assertArrayEquals(bits(slow), bits(fast),
                                "m=" + m + " n=" + n + " k=" + k + " band=" + band + " transA=" + transA);
                    }
                }
            }
        }
    }

    /** The oracle is one plain fma chain per output over the band's p range. */
    @Test
    void oracleIsOnePlainChainPerOutput() {
        int m = 11;
        int n = 11;
        int k = 11;
        float[] a = random(4, m * k);
        float[] b = random(5, k * n);
        float[] c = random(6, m * n);
        float[] lower = c.clone();
        AttentionKernels.multiplyScalar(lower, 0, n, true, a, 0, k, 1, b, 0, n, m, n, k, AttentionKernels.LOWER);
        float[] upper = c.clone();
        AttentionKernels.multiplyScalar(upper, 0, n, false, a, 0, k, 1, b, 0, n, m, n, k, AttentionKernels.UPPER);
        for (int i = 0; i < m; i++) {
            int i0 = i / 4 * 4;
            for (int j = 0; j < n; j++) {
                float s = c[i * n + j];
                for (int p = 0; p < Math.min(k, i0 + 4); p++) {
                    s = Math.fma(a[i * k + p], b[p * n + j], s);
                }
                assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(lower[i * n + j]));
                float u = 0f;
                for (int p = i0; p < k; p++) {
                    u = Math.fma(a[i * k + p], b[p * n + j], u);
                }
                assertEquals(Float.floatToRawIntBits(u), Float.floatToRawIntBits(upper[i * n + j]));
            }
        }
    }

    @Test
    void softmaxRowsEqualTheScalarOracle() {
        for (int width : new int[] {1, 7, 8, 19, 64, 130}) {
            for (int len = 1; len <= width; len += Math.max(1, width / 9)) {
                float[] s = random(7 + len, width + 3);
                // Past len the row holds what the causal product left there; the vector tail reads it, so it
                // must neither enter the result nor survive it, even as NaN or an overflowing exp.
                for (int j = len; j < width; j++) {
                    s[3 + j] = j % 2 == 0 ? Float.NaN : 1e30f;
                }
                float[] fast = s.clone();
                float[] slow = s.clone();
                AttentionKernels.softmaxRow(fast, 3, len, width, 0.3f);
                AttentionKernels.softmaxRowScalar(slow, 3, len, width, 0.3f);
                assertArrayEquals(bits(slow), bits(fast), "softmax len=" + len + " width=" + width);
                double sum = 0;
                for (int j = 0; j < len; j++) {
                    sum += fast[3 + j];
                }
                assertEquals(1.0, sum, 1e-5);
                float[] g = random(8 + len, width + 1);
                float[] gf = g.clone();
                float[] gs = g.clone();
                AttentionKernels.softmaxBackwardRow(gf, 1, fast, 3, len, width, 0.3f);
                AttentionKernels.softmaxBackwardRowScalar(gs, 1, fast, 3, len, width, 0.3f);
                assertArrayEquals(bits(gs), bits(gf), "softmax backward len=" + len + " width=" + width);
            }
        }
    }

    /** Every element lands in place: few rows (element by element), and whole groups of 16 with a ragged tail. */
    @Test
    void transposeMovesEveryElement() {
        AttentionKernels kernels = new AttentionKernels(2);
        for (int[] s : new int[][] {{3, 4, 10, 3}, {37, 5, 11, 40}, {256, 64, 1152, 272}}) {
            int rows = s[0];
            int cols = s[1];
            int ldSrc = s[2];
            int ldDst = s[3];
            float[] src = random(9, 2 + rows * ldSrc);
            float[] dst = new float[1 + cols * ldDst];
            java.util.Arrays.fill(dst, Float.NaN);
            kernels.transpose(1, dst, 1, ldDst, src, 2, ldSrc, rows, cols);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    assertEquals(src[2 + i * ldSrc + j], dst[1 + j * ldDst + i],
                            rows + "×" + cols + " at " + i + ", " + j);
                }
            }
        }
    }
}
