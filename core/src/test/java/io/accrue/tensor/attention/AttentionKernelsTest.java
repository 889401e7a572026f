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

    /** For every band, with the diagonal of whole matrices (0) and of blocks of rows (d &gt; 0) and of p (d &lt; 0). */
    @Test
    void multiplyEqualsTheScalarOracleForEveryBandAndLayout() {
        int[][] sizes = {{1, 1, 1}, {5, 7, 3}, {13, 37, 29}, {16, 32, 16}, {21, 21, 21}, {35, 64, 35}, {8, 9, 40}};
        for (int[] sz : sizes) {
            for (int band = 0; band < 4; band++) {
                for (int diagonal : band == AttentionKernels.UPPER ? new int[] {0, -8, -24} : new int[] {0, 8, 24}) {
                    for (boolean transA : new boolean[] {false, true}) {
                        for (boolean acc : new boolean[] {false, true}) {
                            assertMultiplyMatchesOracle(sz[0], sz[1], sz[2], band, diagonal, transA, acc);
                        }
                    }
                }
            }
        }
    }

    private static void assertMultiplyMatchesOracle(int m, int n, int k, int band, int diagonal, boolean transA,
                                                    boolean acc) {
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
        AttentionKernels.multiply(fast, 6, ldc, acc, a, 7, aRow, aCol, b, 4, ldb, m, n, k, band, diagonal);
        AttentionKernels.multiplyScalar(slow, 6, ldc, acc, a, 7, aRow, aCol, b, 4, ldb, m, n, k, band, diagonal);
        assertArrayEquals(bits(slow), bits(fast), "m=" + m + " n=" + n + " k=" + k + " band=" + band + " diagonal="
                + diagonal + " transA=" + transA + " accumulate=" + acc);
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
        AttentionKernels.multiplyScalar(lower, 0, n, true, a, 0, k, 1, b, 0, n, m, n, k, AttentionKernels.LOWER, 0);
        float[] upper = c.clone();
        AttentionKernels.multiplyScalar(upper, 0, n, false, a, 0, k, 1, b, 0, n, m, n, k, AttentionKernels.UPPER, 0);
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

    /**
     * A causal product taken in blocks — of C's rows (diagonal r0) or of p (diagonal −p0, each block adding to C) —
     * gives the whole product's bits: each output keeps its one chain.
     */
    @Test
    void blocksWithTheirDiagonalGiveTheWholeProductsBits() {
        int t = 45;
        int n = 19;
        float[] a = random(10, t * t);
        float[] b = random(11, t * n);
        float[] c0 = random(12, t * n);
        // LOWER: C (t, n) += A (t, t)·B (t, n); CAUSAL_COLUMNS: C (t, t) += A (t, n)·B (n, t)
        for (int band : new int[] {AttentionKernels.LOWER, AttentionKernels.CAUSAL_COLUMNS}) {
            boolean lower = band == AttentionKernels.LOWER;
            int cols = lower ? n : t;
            int k = lower ? t : n;
            float[] c = random(13, t * cols);
            float[] whole = c.clone();
            AttentionKernels.multiply(whole, 0, cols, true, a, 0, k, 1, b, 0, cols, t, cols, k, band, 0);
            float[] blocks = c.clone();
            for (int r0 = 0; r0 < t; r0 += 16) {
                int rows = Math.min(16, t - r0);
                AttentionKernels.multiply(blocks, r0 * cols, cols, true, a, r0 * k, k, 1, b, 0, cols, rows, cols, k,
                        band, r0);
            }
            assertArrayEquals(bits(whole), bits(blocks), "rows in blocks, band " + band);
        }
        float[] whole = c0.clone();
        AttentionKernels.multiply(whole, 0, n, true, a, 0, 1, t, b, 0, n, t, n, t, AttentionKernels.UPPER, 0);
        float[] blocks = c0.clone();
        for (int p0 = 0; p0 < t; p0 += 16) {
            int depth = Math.min(16, t - p0);
            AttentionKernels.multiply(blocks, 0, n, true, a, p0 * t, 1, t, b, p0 * n, n, p0 + depth, n, depth,
                    AttentionKernels.UPPER, -p0);
        }
        assertArrayEquals(bits(whole), bits(blocks), "p in blocks, UPPER");
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
                float[] rebuilt = s.clone();
                float[] rebuiltScalar = s.clone();
                float[] stats = new float[3];
                float[] statsScalar = new float[3];
                AttentionKernels.softmaxRow(fast, 3, len, width, 0.3f, stats, 1);
                AttentionKernels.softmaxRowScalar(slow, 3, len, width, 0.3f, statsScalar, 1);
                assertArrayEquals(bits(slow), bits(fast), "softmax len=" + len + " width=" + width);
                assertArrayEquals(bits(statsScalar), bits(stats), "statistics len=" + len + " width=" + width);
                AttentionKernels.probabilityRow(rebuilt, 3, len, width, 0.3f, stats, 1);
                AttentionKernels.probabilityRowScalar(rebuiltScalar, 3, len, width, 0.3f, stats, 1);
                assertArrayEquals(bits(fast), bits(rebuilt), "rebuilt len=" + len + " width=" + width);
                assertArrayEquals(bits(fast), bits(rebuiltScalar), "rebuilt (oracle) len=" + len + " width="
                        + width);
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
