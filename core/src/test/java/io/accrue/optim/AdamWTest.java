package io.accrue.optim;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.ParameterStore;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {

    private static final double[][] GRADS = {{0.3, -0.2, 0.05}, {-0.1, -0.4, 0.2}, {0.25, 0.1, -0.3}};

    @Test
    void threeStepsMatchHandComputedDouble() {
        // the reference takes the hyperparameters' float values, as the optimizer receives them
        double lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.1f;
        boolean[] decay = {true, true, false};
        double[] w = {0.5, -1.0, 0.25};
        double[] m = new double[3];
        double[] v = new double[3];
        ParameterStore s = Stores.three();
        try (Parallel par = new Parallel(1)) {
            AdamW opt = new AdamW(s, par, (float) b1, (float) b2, (float) eps, (float) wd);
            for (int t = 1; t <= 3; t++) {
                double[] g = GRADS[t - 1];
                Stores.setGrads(s, g);
                opt.step((float) lr);
                for (int i = 0; i < 3; i++) {
                    if (decay[i]) {
                        w[i] *= 1 - lr * wd;
                    }
                    m[i] = b1 * m[i] + (1 - b1) * g[i];
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                    double mhat = m[i] / (1 - Math.pow(b1, t));
                    double vhat = v[i] / (1 - Math.pow(b2, t));
                    w[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
                }
                for (int i = 0; i < 3; i++) {
                    assertRel(w[i], s.values()[i], "w[" + i + "] after step " + t);
                    assertRel(m[i], opt.state().get(0)[i], "m[" + i + "] after step " + t);
                    assertRel(v[i], opt.state().get(1)[i], "v[" + i + "] after step " + t);
                }
                assertEquals(t, opt.steps());
            }
        }
    }

    @Test
    void weightDecayOnlyTouchesFlaggedParameters() {
        ParameterStore s = Stores.three(); // grads all zero: the update is decay alone
        try (Parallel par = new Parallel(1)) {
            new AdamW(s, par, 0.9f, 0.999f, 1e-8f, 0.5f).step(0.1f);
        }
        assertEquals(0.5f * (float) (1 - 0.1f * 0.5f), s.values()[0]);
        assertEquals(-1.0f * (float) (1 - 0.1f * 0.5f), s.values()[1]);
        assertEquals(0.25f, s.values()[2], "the bias has weightDecay() false");
    }

    @Test
    void biasCorrectionMakesTheFirstUpdateLrTimesSign() {
        ParameterStore s = Stores.three();
        Stores.setGrads(s, 0.003, -7.0, 0.5);
        float lr = 0.01f;
        try (Parallel par = new Parallel(1)) {
            new AdamW(s, par, 0.9f, 0.999f, 1e-8f, 0f).step(lr);
        }
        assertEquals(0.5 - lr, s.values()[0], lr * 1e-4);
        assertEquals(-1.0 + lr, s.values()[1], lr * 1e-4);
        assertEquals(0.25 - lr, s.values()[2], lr * 1e-4);
    }

    @Test
    void sameBitsForOneTwoAndThreeThreads() {
        float[][] results = new float[3][];
        float[][] ms = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            ParameterStore s = Stores.random(7, 4000, 1, 3000, 2999, 1); // 10,001 elements
            try (Parallel par = new Parallel(threads)) {
                AdamW opt = new AdamW(s, par, 0.9f, 0.95f, 1e-8f, 0.1f);
                for (int step = 0; step < 3; step++) {
                    Stores.randomGrads(s, 100 + step);
                    opt.step(3e-3f);
                }
                results[threads - 1] = s.values().clone();
                ms[threads - 1] = opt.state().get(1).clone();
            }
        }
        assertEquals(10_001, results[0].length);
        assertArrayEquals(results[0], results[1], "1 vs 2 threads");
        assertArrayEquals(results[0], results[2], "1 vs 3 threads");
        assertArrayEquals(ms[0], ms[2], "v, 1 vs 3 threads");
    }

    @Test
    void restoreRoundTripContinuesWithTheSameBits() {
        ParameterStore a = Stores.random(3, 50, 20, 30);
        ParameterStore b = Stores.random(3, 50, 20, 30);
        try (Parallel par = new Parallel(2)) {
            AdamW optA = new AdamW(a, par, 0.9f, 0.999f, 1e-8f, 0.01f);
            for (int step = 0; step < 2; step++) {
                Stores.randomGrads(a, step);
                optA.step(1e-2f);
            }
            // checkpoint: values, state, steps
            float[] values = a.values().clone();
            List<float[]> state = optA.state().stream().map(float[]::clone).toList();
            long steps = optA.steps();

            AdamW optB = new AdamW(b, par, 0.9f, 0.999f, 1e-8f, 0.01f);
            System.arraycopy(values, 0, b.values(), 0, values.length);
            optB.restore(state, steps);
            assertEquals(2, optB.steps());

            Stores.randomGrads(a, 9);
            Stores.randomGrads(b, 9);
            optA.step(1e-2f);
            optB.step(1e-2f);
            assertArrayEquals(a.values(), b.values());
            assertArrayEquals(optA.state().get(0), optB.state().get(0));
            assertArrayEquals(optA.state().get(1), optB.state().get(1));
        }
    }

    @Test
    void restoreNamesWhatMismatched() {
        ParameterStore s = Stores.three();
        try (Parallel par = new Parallel(1)) {
            AdamW opt = new AdamW(s, par, 0.9f, 0.999f, 1e-8f, 0f);
            var count = assertThrows(IllegalArgumentException.class,
                    () -> opt.restore(List.of(new float[3]), 1));
            assertEquals("adamw expects 2 state buffers, got 1", count.getMessage());
            var length = assertThrows(IllegalArgumentException.class,
                    () -> opt.restore(List.of(new float[3], new float[4]), 1));
            assertEquals("adamw state[1] has length 4, expected 3 (the parameter count)", length.getMessage());
            var steps = assertThrows(IllegalArgumentException.class,
                    () -> opt.restore(List.of(new float[3], new float[3]), -1));
            assertTrue(steps.getMessage().contains("steps"), steps.getMessage());
        }
    }

    @Test
    void badArgumentsAreNamed() {
        ParameterStore s = Stores.three();
        try (Parallel par = new Parallel(1)) {
            assertMessage("beta1 must be in [0, 1), got 1.0", () -> new AdamW(s, par, 1f, 0.999f, 1e-8f, 0f));
            assertMessage("beta2 must be in [0, 1), got -0.5", () -> new AdamW(s, par, 0.9f, -0.5f, 1e-8f, 0f));
            assertMessage("beta1 must be in [0, 1), got NaN",
                    () -> new AdamW(s, par, Float.NaN, 0.999f, 1e-8f, 0f));
            assertMessage("eps must be finite and > 0, got 0.0", () -> new AdamW(s, par, 0.9f, 0.999f, 0f, 0f));
            assertMessage("weightDecay must be finite and >= 0, got -0.1",
                    () -> new AdamW(s, par, 0.9f, 0.999f, 1e-8f, -0.1f));
            AdamW opt = new AdamW(s, par, 0.9f, 0.999f, 1e-8f, 0f);
            assertMessage("lr must be finite and > 0, got 0.0", () -> opt.step(0f));
            assertMessage("lr must be finite and > 0, got NaN", () -> opt.step(Float.NaN));
            assertMessage("lr must be finite and > 0, got Infinity", () -> opt.step(Float.POSITIVE_INFINITY));
            assertEquals(0, opt.steps(), "a rejected step changes nothing");
        }
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable e) {
        assertEquals(expected, assertThrows(IllegalArgumentException.class, e).getMessage());
    }

    static void assertRel(double expected, float actual, String what) {
        double tol = 1e-6 * Math.max(Math.abs(expected), 1e-30);
        assertEquals(expected, actual, tol, what);
    }
}
