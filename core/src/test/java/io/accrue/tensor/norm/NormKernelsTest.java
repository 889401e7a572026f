package io.accrue.tensor.norm;

import io.accrue.tensor.VectorApi;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layer-norm row kernels: the Vector API bodies give the scalar oracle's bits; the statistics are fp32-accurate. */
class NormKernelsTest {
    private static final int[] WIDTHS = {1, 7, 8, 9, 16, 63, 64, 65, 128, 384, 1000};

    private static float[] gaussian(Random rnd, int n, double mean, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (mean + sd * rnd.nextGaussian());
        }
        return v;
    }

    @Test
    void vectorRowsMatchTheScalarOracleBitForBit() {
        assertTrue(VectorApi.AVAILABLE, "tests run with jdk.incubator.vector");
        Random rnd = new Random(11);
        for (int c : WIDTHS) {
            int off = 3;
            float[] x = gaussian(rnd, off + c, 0.5, 2);
            float[] dy = gaussian(rnd, off + c, 0, 1);
            float[] gamma = gaussian(rnd, off + c, 1, 0.3);
            float[] beta = gaussian(rnd, off + c, 0, 0.3);
            float[] y1 = new float[off + c];
            float[] y2 = new float[off + c];
            float[] st1 = new float[4];
            float[] st2 = new float[4];
            NormKernels.layerNormRowScalar(y1, off, st1, 1, st1, 2, x, off, gamma, off, beta, off, c, 1e-5f);
            NormKernels.layerNormRow(y2, off, st2, 1, st2, 2, x, off, gamma, off, beta, off, c, 1e-5f);
            assertArrayEquals(st1, st2, "mean/rstd c=" + c);
            assertArrayEquals(y1, y2, "y c=" + c);
            float[] dx1 = gaussian(rnd, off + c, 0, 1);
            float[] dx2 = dx1.clone();
            NormKernels.layerNormBackwardRowScalar(dx1, off, x, off, dy, off, gamma, off, st1[1], st1[2], c);
            NormKernels.layerNormBackwardRow(dx2, off, x, off, dy, off, gamma, off, st1[1], st1[2], c);
            assertArrayEquals(dx1, dx2, "dx c=" + c);
            for (int[] range : new int[][] {{0, c}, {c / 3, c}, {1, Math.max(1, c - 1)}}) {
                float[] dg1 = gaussian(rnd, c, 0, 1);
                float[] db1 = gaussian(rnd, c, 0, 1);
                float[] dg2 = dg1.clone();
                float[] db2 = db1.clone();
                NormKernels.layerNormParamRowScalar(dg1, 0, db1, 0, x, off, dy, off, st1[1], st1[2], range[0],
                        range[1]);
                NormKernels.layerNormParamRow(dg2, 0, db2, 0, x, off, dy, off, st1[1], st1[2], range[0], range[1]);
                assertArrayEquals(dg1, dg2, "dgamma c=" + c);
                assertArrayEquals(db1, db2, "dbeta c=" + c);
                NormKernels.layerNormParamRow(null, 0, db2, 0, x, off, dy, off, st1[1], st1[2], range[0], range[1]);
                NormKernels.layerNormParamRow(dg2, 0, null, 0, x, off, dy, off, st1[1], st1[2], range[0], range[1]);
            }
        }
    }

    /** Group norm's kernels over groups of (channels × positions): vector and scalar give the same bits. */
    @Test
    void vectorGroupKernelsMatchTheScalarOracleBitForBit() {
        Random rnd = new Random(12);
        int off = 5;
        for (int len : new int[] {1, 7, 9, 49, 196, 784}) {
            for (int runs : new int[] {1, 3, 4}) {
                int m = runs * len;
                float[] x = gaussian(rnd, off + m, 0.3, 1.5);
                float[] dy = gaussian(rnd, off + m, 0, 1);
                float[] gamma = gaussian(rnd, off + runs, 1, 0.3);
                float[] beta = gaussian(rnd, off + runs, 0, 0.5);
                for (boolean relu : new boolean[] {false, true}) {
                    String at = "len=" + len + " runs=" + runs + " relu=" + relu;
                    float[] y1 = new float[off + m];
                    float[] y2 = new float[off + m];
                    float[] st1 = new float[4];
                    float[] st2 = new float[4];
                    NormKernels.groupNormScalar(y1, off, st1, 1, st1, 3, x, off, gamma, off, beta, off, runs, len,
                            1e-5f, relu);
                    NormKernels.groupNorm(y2, off, st2, 1, st2, 3, x, off, gamma, off, beta, off, runs, len, 1e-5f,
                            relu);
                    assertArrayEquals(st1, st2, "mean/rstd " + at);
                    assertArrayEquals(y1, y2, "y " + at);
                    float[] mask = relu ? y1 : null;
                    float[] sums1 = new float[2 * runs + 2];
                    float[] sums2 = new float[2 * runs + 2];
                    for (int r = 0; r < runs; r++) {
                        NormKernels.groupNormChannelSumsScalar(sums1, 1 + r, 1 + runs + r, x, off + r * len, dy,
                                off + r * len, mask, off + r * len, st1[1], st1[3], len);
                        NormKernels.groupNormChannelSums(sums2, 1 + r, 1 + runs + r, x, off + r * len, dy,
                                off + r * len, mask, off + r * len, st1[1], st1[3], len);
                    }
                    assertArrayEquals(sums1, sums2, "channel sums " + at);
                    for (boolean accumulate : new boolean[] {false, true}) {
                        float[] dx1 = gaussian(rnd, off + m, 0, 1);
                        float[] dx2 = dx1.clone();
                        NormKernels.groupNormBackwardScalar(dx1, off, accumulate, x, off, dy, off, mask, off, gamma,
                                off, sums1, 1, 1 + runs, runs, len, st1[1], st1[3]);
                        NormKernels.groupNormBackward(dx2, off, accumulate, x, off, dy, off, mask, off, gamma, off,
                                sums1, 1, 1 + runs, runs, len, st1[1], st1[3]);
                        assertArrayEquals(dx1, dx2, "dx " + at + " accumulate=" + accumulate);
                    }
                }
            }
        }
    }

    /** Mean and rstd against double two-pass statistics: relative error below 1e-6 (fp32 lane sums). */
    @Test
    void statisticsAreFp32Accurate() {
        Random rnd = new Random(5);
        for (int c : WIDTHS) {
            if (c < 2) {
                continue;
            }
            float[] x = gaussian(rnd, c, 3, 2);
            float[] st = new float[2];
            float[] y = new float[c];
            float[] ones = new float[c];
            java.util.Arrays.fill(ones, 1f);
            NormKernels.layerNormRow(y, 0, st, 0, st, 1, x, 0, ones, 0, new float[c], 0, c, 1e-5f);
            double sum = 0;
            for (float v : x) {
                sum += v;
            }
            double mu = sum / c;
            double sq = 0;
            for (float v : x) {
                sq += (v - mu) * (v - mu);
            }
            double rstd = 1 / Math.sqrt(sq / c + 1e-5);
            assertTrue(Math.abs(st[0] - mu) <= 1e-6 * Math.abs(mu), "mean c=" + c + ": " + st[0] + " vs " + mu);
            assertTrue(Math.abs(st[1] - rstd) <= 1e-6 * rstd, "rstd c=" + c + ": " + st[1] + " vs " + rstd);
        }
    }
}
