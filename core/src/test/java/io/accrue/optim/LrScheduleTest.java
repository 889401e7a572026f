package io.accrue.optim;

import org.junit.jupiter.api.Test;

import static io.accrue.optim.AdamWTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LrScheduleTest {

    @Test
    void constant() {
        LrSchedule s = LrSchedule.constant(3e-4);
        assertEquals(3e-4, s.lr(0));
        assertEquals(3e-4, s.lr(1_000_000));
    }

    @Test
    void warmupCosine() {
        LrSchedule s = LrSchedule.warmupCosine(1.0, 10, 110, 0.1);
        assertEquals(0.1, s.lr(0), 1e-15, "warmup start: peak * 1 / 10");
        assertEquals(0.5, s.lr(4), 1e-15);
        assertEquals(1.0, s.lr(9), 1e-15, "warmup end");
        assertEquals(1.0, s.lr(10), 1e-15, "decay start");
        assertEquals(0.55, s.lr(60), 1e-12, "mid-cosine: halfway between peak and min");
        assertEquals(0.1 + 0.45 * (1 + Math.cos(Math.PI * 0.25)), s.lr(35), 1e-12);
        assertEquals(0.1, s.lr(110), 1e-15, "end");
        assertEquals(0.1, s.lr(111), "past the end");
        assertEquals(0.1, s.lr(10_000), "past the end");
    }

    @Test
    void warmupCosineWithoutWarmupStartsAtPeak() {
        assertEquals(2.0, LrSchedule.warmupCosine(2.0, 0, 100, 0).lr(0));
    }

    @Test
    void warmupLinear() {
        LrSchedule s = LrSchedule.warmupLinear(1.0, 10, 110, 0.1);
        assertEquals(0.1, s.lr(0), 1e-15);
        assertEquals(1.0, s.lr(9), 1e-15);
        assertEquals(1.0, s.lr(10), 1e-15);
        assertEquals(0.55, s.lr(60), 1e-12);
        assertEquals(0.1, s.lr(110), 1e-15);
        assertEquals(0.1, s.lr(500));
    }

    @Test
    void badArgumentsAreNamed() {
        assertMessage("lr must be finite and > 0, got 0.0", () -> LrSchedule.constant(0));
        assertMessage("peakLr must be finite and > 0, got NaN",
                () -> LrSchedule.warmupCosine(Double.NaN, 1, 10, 0));
        assertMessage("warmupSteps must be >= 0, got -1", () -> LrSchedule.warmupLinear(1, -1, 10, 0));
        assertMessage("totalSteps must be > warmupSteps (10), got 10", () -> LrSchedule.warmupCosine(1, 10, 10, 0));
        assertMessage("minLr must be in [0, peakLr (1.0)], got 2.0", () -> LrSchedule.warmupCosine(1, 1, 10, 2));
        assertMessage("minLr must be in [0, peakLr (1.0)], got -0.1",
                () -> LrSchedule.warmupLinear(1, 1, 10, -0.1));
        assertMessage("step must be >= 0, got -1", () -> LrSchedule.warmupCosine(1, 1, 10, 0).lr(-1));
    }

    @Test
    void linearScaling() {
        assertEquals(0.4, LinearScaling.scale(0.1, 256, 1024), 1e-15);
        assertEquals(0.4, LinearScaling.scale(0.1, 256, 1024, Double.POSITIVE_INFINITY), 1e-15);
        assertEquals(0.3, LinearScaling.scale(0.1, 256, 1024, 0.3), "capped");
        assertEquals(0.05, LinearScaling.scale(0.1, 256, 128, 0.3), 1e-15, "smaller batch scales down");
        assertMessage("baseLr must be finite and > 0, got -0.1", () -> LinearScaling.scale(-0.1, 256, 1024));
        assertMessage("baseBatch must be > 0, got 0", () -> LinearScaling.scale(0.1, 0, 1024));
        assertMessage("effectiveBatch must be > 0, got -4", () -> LinearScaling.scale(0.1, 256, -4));
        assertMessage("maxLr must be > 0 (Infinity for no cap), got 0.0",
                () -> LinearScaling.scale(0.1, 256, 1024, 0));
    }
}
