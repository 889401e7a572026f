package io.accrue.tensor.elementwise;

import io.accrue.tensor.attention.AttentionKernels;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deterministic exp and GELU: accuracy against double references, vector bits equal scalar bits. */
class ElementwiseTest {
    /** The kernels with scratch, for one thread part. */
    private static final Elementwise KERNELS = new Elementwise(1);

    /** Distance in units in the last place between a float and the float nearest to a double reference. */
    static long ulps(float got, double want) {
        float w = (float) want;
        return Math.abs((long) Float.floatToRawIntBits(got) - Float.floatToRawIntBits(w));
    }

    private static float[] grid(float lo, float hi, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = lo + (hi - lo) * i / (n - 1);
        }
        return x;
    }

    @Test
    void expIsWithinTwoUlpsOverItsRange() {
        long worst = 0;
        for (float x : grid(-87f, 88f, 400_001)) {
            worst = Math.max(worst, ulps(Exp.exp(x), Math.exp(x)));
        }
        assertTrue(worst <= 2, "max ulp error of exp: " + worst);
        assertEquals(1f, Exp.exp(0f));
        assertTrue(Float.isNaN(Exp.exp(Float.NaN)));
        assertEquals(0f, Exp.exp(-1000f), "underflows to 0, never to a subnormal");
        for (float x : grid(-110f, -87.3f, 10_001)) {
            float e = Exp.exp(x);
            assertTrue(e == 0f || e >= Float.MIN_NORMAL, "exp(" + x + ") = " + e + " is subnormal");
        }
    }

    /**
     * Against ½·x·(1 + tanh u) in double ({@link Math#tanh}): at most 3 ulp for x in [−1, 10] and 16 ulp for x in
     * [−3, −1]. Further out the argument u = √(2/π)(x + 0.044715x³), rounded to float, costs relative accuracy
     * growing with |u| (y is then x·e^{−2|u|}, below 1e−2 in magnitude), and the double tanh formula itself cancels
     * to 0, so the tail is checked against x·σ(2u) in double: relative error at most 4e−5 down to x = −9.
     */
    @Test
    void geluMatchesTheTanhFormula() {
        long worstCore = 0;
        long worstMid = 0;
        double worstTail = 0;
        for (float x : grid(-1f, 10f, 200_001)) {
            worstCore = Math.max(worstCore, ulps(Elementwise.gelu(x), tanhGelu(x)));
        }
        for (float x : grid(-3f, -1f, 100_001)) {
            worstMid = Math.max(worstMid, ulps(Elementwise.gelu(x), tanhGelu(x)));
        }
        for (float x : grid(-9f, -3f, 60_001)) {
            double u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
            double want = x / (1 + Math.exp(-2 * u));
            worstTail = Math.max(worstTail, Math.abs(Elementwise.gelu(x) - want) / Math.abs(want));
        }
        assertTrue(worstCore <= 3, "max ulp error of gelu on [-1, 10]: " + worstCore);
        assertTrue(worstMid <= 16, "max ulp error of gelu on [-3, -1]: " + worstMid);
        assertTrue(worstTail <= 4e-5, "max relative error of gelu on [-9, -3]: " + worstTail);
        assertEquals(0f, Elementwise.gelu(0f));
        assertEquals(1e6f, Elementwise.gelu(1e6f));
    }

    /** The derivative against the tanh formula in double: error at most 2e−7 + 2e−6·|gelu'(x)| on [−9, 10]. */
    @Test
    void geluGradientMatchesTheTanhFormula() {
        double worst = 0;
        for (float x : grid(-9f, 10f, 200_001)) {
            double u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
            double th = Math.tanh(u);
            double want = 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * Math.sqrt(2 / Math.PI)
                    * (1 + 3 * 0.044715 * x * x);
            worst = Math.max(worst, Math.abs(Elementwise.geluGrad(x) - want) / (2e-7 + 2e-6 * Math.abs(want)));
        }
        assertTrue(worst <= 1, "gelu' error over its bound, ratio " + worst);
        for (float x : grid(-1000f, -5f, 100_001)) {  // far out it is 0, never a subnormal that slows later FMAs
            float g = Elementwise.geluGrad(x);
            assertTrue(g == 0f || Math.abs(g) >= 0x1p-64f, "gelu'(" + x + ") = " + g);
        }
    }

    private static double tanhGelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    @Test
    void vectorGeluEqualsScalarBitsAtEveryOffset() {
        float[] x = grid(-12f, 12f, 1003);
        x[5] = Float.NaN;
        x[17] = -0f;
        x[40] = 1e30f;
        x[41] = -1e30f;
        for (int off : new int[] {0, 1, 5}) {
            int n = x.length - off;
            float[] fast = new float[n];
            float[] slow = new float[n];
            Elementwise.gelu(fast, 0, x, off, n);
            Elementwise.geluScalar(slow, 0, x, off, n);
            assertArrayEquals(ElementwiseTestBits.of(slow), ElementwiseTestBits.of(fast));
            float[] dy = grid(-1f, 2f, n);
            float[] gf = grid(3f, -3f, n);
            float[] gs = gf.clone();
            KERNELS.geluBackward(0, gf, 0, true, dy, 0, x, off, n);
            Elementwise.geluBackwardScalar(gs, 0, true, dy, 0, x, off, n);
            assertArrayEquals(ElementwiseTestBits.of(gs), ElementwiseTestBits.of(gf));
            float[] zeros = new float[n];
            Elementwise.geluBackwardScalar(zeros, 0, true, dy, 0, x, off, n);
            float[] stale = grid(5f, -5f, n);
            KERNELS.geluBackward(0, stale, 0, false, dy, 0, x, off, n);
            assertArrayEquals(ElementwiseTestBits.of(zeros), ElementwiseTestBits.of(stale),
                    "not accumulating: the bits of accumulating onto +0, whatever dx held");
        }
    }

    /**
     * Adds and bias-gradient column sums: vector bits equal the oracle's for ragged lengths, offsets and column
     * ranges, with values of mixed magnitudes (so that another summation order would change bits), inside one
     * arena-like array as the ops use them, and in place ({@code out += in}).
     */
    @Test
    void vectorAddAndColumnSumsEqualScalarBits() {
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        float[] arena = new float[40_000];
        for (int i = 0; i < arena.length; i++) {
            arena[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 4)));
        }
        for (int n : new int[] {1, 15, 16, 17, 63, 64, 65, 130, 1003}) {
            float[] fast = arena.clone();
            float[] slow = arena.clone();
            Elementwise.add(fast, 30_000, fast, 3, fast, 11_000, n);
            Elementwise.addScalar(slow, 30_000, slow, 3, slow, 11_000, n);
            Elementwise.add(fast, 5, fast, 5, fast, 20_001, n); // out += in
            Elementwise.addScalar(slow, 5, slow, 5, slow, 20_001, n);
            assertArrayEquals(ElementwiseTestBits.of(slow), ElementwiseTestBits.of(fast), "add of " + n);
        }
        for (int cols : new int[] {1, 16, 17, 64, 65, 100, 384}) {
            for (int rows : new int[] {1, 3, 40, 600}) { // 600: the vector path's blocks of 256 rows
                if (7 + rows * cols > 39_000) {
                    continue;
                }
                for (int[] range : new int[][] {{0, cols}, {cols / 3, cols}, {1 % cols, cols - cols / 4}}) {
                    float[] fast = arena.clone();
                    float[] slow = arena.clone();
                    Elementwise.addColumnSums(fast, 39_000, fast, 7, cols, rows, range[0], range[1]);
                    Elementwise.addColumnSumsScalar(slow, 39_000, slow, 7, cols, rows, range[0], range[1]);
                    assertArrayEquals(ElementwiseTestBits.of(slow), ElementwiseTestBits.of(fast),
                            rows + "×" + cols + " over " + range[0] + ".." + range[1]);
                }
            }
        }
        float[] out = {1f};
        Elementwise.addColumnSums(out, 0, new float[] {1e8f, -1e8f, 1f, 1f}, 0, 1, 4, 0, 1);
        assertEquals(2f, out[0], "the chain is ((out + x0) + x1) + …: 1 + 1e8 rounds to 1e8 (x first would give 3)");
    }

    /** Raw bits of a float array. */
    static final class ElementwiseTestBits {
        static int[] of(float[] a) {
            int[] b = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                b[i] = Float.floatToRawIntBits(a[i]);
            }
            return b;
        }
    }
    /** The softmax-row kernels of cross-entropy: vector bits equal the scalar oracle's for every length and offset. */
    @Test
    void softmaxRowKernelsMatchTheirOracles() {
        java.util.Random rnd = new java.util.Random(7);
        for (int n : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 65, 256, 1001}) {
            for (int off : new int[] {0, 3}) {
                float[] x = new float[off + n];
                for (int j = 0; j < x.length; j++) {
                    x[j] = (float) (rnd.nextGaussian() * 6);
                }
                float max = Elementwise.maxScalar(x, off, n);
                assertEquals(Float.floatToRawIntBits(max), Float.floatToRawIntBits(Elementwise.max(x, off, n)),
                        "max n=" + n);
                double sum = Elementwise.expSumScalar(x, off, n, max);
                assertEquals(Double.doubleToRawLongBits(sum),
                        Double.doubleToRawLongBits(KERNELS.expSum(0, x, off, n, max)), "expSum n=" + n);
                double exact = 0;
                for (int j = 0; j < n; j++) {
                    exact += Math.exp((double) x[off + j] - max);
                }
                assertTrue(Math.abs(sum - exact) <= 3e-7 * exact, "expSum accuracy n=" + n + ": " + sum + " vs "
                        + exact);
                float[] g1 = new float[off + n + 2];
                for (int j = 0; j < g1.length; j++) {
                    g1[j] = (float) rnd.nextGaussian();
                }
                float[] g2 = g1.clone();
                Elementwise.softmaxAddScalar(g1, 1, x, off, n, max, (float) sum);
                KERNELS.softmaxAdd(0, g2, 1, x, off, n, max, (float) sum);
                assertArrayEquals(g1, g2, "softmaxAdd n=" + n);
            }
        }
    }

    /**
     * Probabilities below 2^−64 are 0 on every path (the gradients they seed end up subnormal, which slows every
     * later FMA ~100×): exp(−50) / 17 is one, exp(−40) / 17 is not.
     */
    @Test
    void negligibleSoftmaxProbabilitiesAreZero() {
        float[] x = new float[19];
        x[17] = -50f;  // 17 logits at 0 (the max), one 50 below, one 40 below
        x[18] = -40f;
        float[] add = new float[19];
        float[] addScalar = new float[19];
        double sum = KERNELS.expSum(0, x, 0, 19, 0f);
        KERNELS.softmaxAdd(0, add, 0, x, 0, 19, 0f, (float) sum);
        Elementwise.softmaxAddScalar(addScalar, 0, x, 0, 19, 0f, (float) sum);
        float[] row = x.clone();
        float[] rowScalar = x.clone();
        AttentionKernels.softmaxRow(row, 0, 19, 19, 1f, new float[2], 0);
        AttentionKernels.softmaxRowScalar(rowScalar, 0, 19, 19, 1f, new float[2], 0);
        assertTrue(Math.exp(-50) / 17 < 0x1p-64 && Math.exp(-40) / 17 > 0x1p-64);
        for (float[] p : new float[][] {add, addScalar, row, rowScalar}) {
            assertEquals(0f, p[17]);
            assertEquals(Math.exp(-40) / 17, p[18], 1e-5 * Math.exp(-40) / 17);
            assertEquals(1f / 17, p[0], 1e-7f);
        }
    }
}
