package io.accrue.tensor.conv;

import io.accrue.tensor.Parallel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The convolution family's fast paths give their scalar oracles' bits, on one thread and two. */
class ConvKernelsTest {

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    @ParameterizedTest(name = "{0}×{1} kernel, stride {2}, padding {3}, threads {4}")
    @CsvSource({"3, 3, 1, 1, 1", "3, 3, 1, 1, 2", "3, 3, 1, 0, 2", "3, 2, 2, 1, 1", "1, 1, 1, 0, 2", "5, 5, 2, 2, 2",
                "3, 3, 3, 2, 1"})
    void im2colAndCol2imMatchTheirOracles(int kh, int kw, int stride, int padding, int threads) {
        Random rnd = new Random(kh * 31L + kw * 7 + stride * 3 + padding);
        int n = 3;
        int cin = 2;
        int h = 9;
        int w = 7;
        ConvShape g = new ConvShape(n, cin, h, w, kh, kw, ConvShape.outputSize(h, kh, stride, padding),
                ConvShape.outputSize(w, kw, stride, padding), stride, padding);
        int off = 3;
        float[] x = random(rnd, off + n * g.imageSize());
        float[] fast = new float[off + g.rows() * g.columns()];
        float[] oracle = fast.clone();
        Arrays.fill(fast, off, fast.length, Float.NaN); // every element is written
        try (Parallel p = new Parallel(threads)) {
            ConvKernels.im2col(p, fast, off, x, off, g);
            ConvKernels.im2colScalar(oracle, off, x, off, g);
            assertArrayEquals(oracle, fast, "im2col");
            float[] dcols = random(rnd, off + g.rows() * g.columns());
            float[] dxFast = random(rnd, off + n * g.imageSize());
            float[] dxOracle = dxFast.clone();
            ConvKernels.col2im(p, dxFast, off, dcols, off, g);
            ConvKernels.col2imScalar(dxOracle, off, dcols, off, g);
            assertArrayEquals(dxOracle, dxFast, "col2im");
        }
    }

    @Test
    void channelMajorCopiesAreInverse() {
        Random rnd = new Random(5);
        int n = 3;
        int c = 4;
        int s = 10;
        float[] x = random(rnd, n * c * s);
        float[] cm = new float[n * c * s + 2];
        float[] back = new float[n * c * s];
        try (Parallel p = new Parallel(2)) {
            ConvKernels.toChannelMajor(p, cm, 2, x, 0, n, c, s);
            assertEquals(x[(2 * c + 1) * s + 7], cm[2 + (1 * n + 2) * s + 7], "x[2][1][7] at cm[1][2·S + 7]");
            ConvKernels.fromChannelMajor(p, back, 0, cm, 2, n, c, s);
        }
        assertArrayEquals(x, back);
    }

    @ParameterizedTest(name = "kernel {0}, stride {1}, width {2}")
    @CsvSource({"2, 2, 8", "2, 2, 37", "2, 2, 28", "3, 2, 8", "2, 1, 8"}) // 37, 28: several vectors a row, a tail
    void maxPoolMatchesItsOracleWithTies(int kernel, int stride, int w) {
        Random rnd = new Random(kernel * 10L + stride + w);
        int planes = 5;
        int h = 7;
        int ho = (h - kernel) / stride + 1;
        int wo = (w - kernel) / stride + 1;
        float[] x = new float[planes * h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (rnd.nextInt(4)) { // ties, signed zeros and NaN test "first maximum, strictly greater"
                case 0 -> 0f;
                case 1 -> -0f;
                case 2 -> rnd.nextInt(3);
                default -> i % 17 == 0 ? Float.NaN : (float) rnd.nextGaussian();
            };
        }
        float[] fast = new float[planes * ho * wo];
        float[] oracle = new float[planes * ho * wo];
        ConvKernels.maxPool(fast, 0, x, 0, 1, planes, h, w, ho, wo, kernel, stride);
        ConvKernels.maxPoolScalar(oracle, 0, x, 0, 1, planes, h, w, ho, wo, kernel, stride);
        assertArrayEquals(oracle, fast);
        float[] dy = random(rnd, planes * ho * wo);
        float[] dx = random(rnd, planes * h * w);
        float[] expected = dx.clone();
        ConvKernels.maxPoolBackward(dx, 0, false, x, 0, dy, 0, 1, planes, h, w, ho, wo, kernel, stride);
        for (int pl = 1; pl < planes; pl++) {
            for (int i = 0; i < ho; i++) {
                for (int j = 0; j < wo; j++) {
                    int best = pl * h * w + i * stride * w + j * stride;
                    for (int u = 0; u < kernel; u++) {
                        for (int v = 0; v < kernel; v++) {
                            int at = pl * h * w + (i * stride + u) * w + j * stride + v;
                            best = x[at] > x[best] ? at : best;
                        }
                    }
                    expected[best] += dy[(pl * ho + i) * wo + j];
                }
            }
        }
        assertArrayEquals(expected, dx, "dy lands on each window's first maximum");
        float[] fresh = random(rnd, planes * h * w);
        float[] onZeros = new float[planes * h * w];
        System.arraycopy(fresh, 0, onZeros, 0, h * w); // plane 0 is outside the range: left as it was
        ConvKernels.maxPoolBackward(fresh, 0, true, x, 0, dy, 0, 1, planes, h, w, ho, wo, kernel, stride);
        ConvKernels.maxPoolBackward(onZeros, 0, false, x, 0, dy, 0, 1, planes, h, w, ho, wo, kernel, stride);
        assertArrayEquals(onZeros, fresh, "a fresh gradient is zeroed plane by plane");
    }
}
