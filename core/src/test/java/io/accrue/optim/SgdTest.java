package io.accrue.optim;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.ParameterStore;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.accrue.optim.AdamWTest.assertMessage;
import static io.accrue.optim.AdamWTest.assertRel;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SgdTest {

    private static final double[][] GRADS = {{0.3, -0.2, 0.05}, {-0.1, -0.4, 0.2}, {0.25, 0.1, -0.3}};

    @Test
    void momentumThreeStepsMatchHandComputedDouble() {
        double lr = 0.1f, mu = 0.9f, wd = 0.01f;
        boolean[] decay = {true, true, false};
        double[] w = {0.5, -1.0, 0.25};
        double[] buf = new double[3];
        ParameterStore s = Stores.three();
        try (Parallel par = new Parallel(1)) {
            Sgd opt = new Sgd(s, par, (float) mu, (float) wd);
            for (int t = 0; t < 3; t++) {
                double[] g = GRADS[t];
                Stores.setGrads(s, g);
                opt.step((float) lr);
                for (int i = 0; i < 3; i++) {
                    double gi = g[i] + (decay[i] ? wd * w[i] : 0);
                    buf[i] = t == 0 ? gi : mu * buf[i] + gi;
                    w[i] -= lr * buf[i];
                }
                for (int i = 0; i < 3; i++) {
                    assertRel(w[i], s.values()[i], "w[" + i + "] after step " + (t + 1));
                    assertRel(buf[i], opt.state().get(0)[i], "buf[" + i + "] after step " + (t + 1));
                }
            }
            assertEquals(3, opt.steps());
        }
    }

    @Test
    void plainSgdHasNoStateAndDecaysOnlyFlaggedParameters() {
        ParameterStore s = Stores.three();
        Stores.setGrads(s, 1, 1, 1);
        try (Parallel par = new Parallel(1)) {
            Sgd opt = new Sgd(s, par, 0f, 0.5f);
            opt.step(0.1f);
            assertTrue(opt.state().isEmpty());
            opt.restore(List.of(), 1);
        }
        assertEquals(0.5f - 0.1f * (1f + 0.5f * 0.5f), s.values()[0]);
        assertEquals(-1.0f - 0.1f * (1f + 0.5f * -1.0f), s.values()[1]);
        assertEquals(0.25f - 0.1f * 1f, s.values()[2], "the bias has weightDecay() false");
    }

    @Test
    void sameBitsForOneTwoAndThreeThreads() {
        float[][] results = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            ParameterStore s = Stores.random(11, 1, 5000, 5000); // 10,001 elements
            try (Parallel par = new Parallel(threads)) {
                Sgd opt = new Sgd(s, par, 0.9f, 1e-4f);
                for (int step = 0; step < 3; step++) {
                    Stores.randomGrads(s, 200 + step);
                    opt.step(0.05f);
                }
                results[threads - 1] = s.values().clone();
            }
        }
        assertArrayEquals(results[0], results[1], "1 vs 2 threads");
        assertArrayEquals(results[0], results[2], "1 vs 3 threads");
    }

    @Test
    void restoreRoundTrip() {
        ParameterStore a = Stores.random(5, 40, 9);
        ParameterStore b = Stores.random(5, 40, 9);
        try (Parallel par = new Parallel(1)) {
            Sgd optA = new Sgd(a, par, 0.9f, 0.01f);
            Stores.randomGrads(a, 1);
            optA.step(0.1f);
            Sgd optB = new Sgd(b, par, 0.9f, 0.01f);
            System.arraycopy(a.values(), 0, b.values(), 0, a.size());
            optB.restore(List.of(optA.state().get(0).clone()), optA.steps());
            Stores.randomGrads(a, 2);
            Stores.randomGrads(b, 2);
            optA.step(0.1f);
            optB.step(0.1f); // uses the restored buffer, not "first step"
            assertArrayEquals(a.values(), b.values());
            assertMessage("sgd expects 1 state buffers, got 0", () -> optB.restore(List.of(), 1));
            assertMessage("sgd state[0] has length 3, expected 49 (the parameter count)",
                    () -> optB.restore(List.of(new float[3]), 1));
        }
    }

    @Test
    void badArgumentsAreNamed() {
        ParameterStore s = Stores.three();
        try (Parallel par = new Parallel(1)) {
            assertMessage("momentum must be in [0, 1), got 1.0", () -> new Sgd(s, par, 1f, 0f));
            assertMessage("momentum must be in [0, 1), got -0.1", () -> new Sgd(s, par, -0.1f, 0f));
            assertMessage("weightDecay must be finite and >= 0, got NaN", () -> new Sgd(s, par, 0.9f, Float.NaN));
            Sgd opt = new Sgd(s, par, 0.9f, 0f);
            assertMessage("lr must be finite and > 0, got -1.0", () -> opt.step(-1f));
        }
    }
}
