package io.accrue.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Warm-up ends after five steps in a row with under 1% of their time compiling, or at the caps. */
class JitWarmupTest {

    /** Steps of 1 s each with the given JIT milliseconds; the 1-based step after which warm-up was over, or -1. */
    private static int warmAfter(long... jitMillisPerStep) {
        long[] total = {0};
        int[] i = {0};
        JitWarmup w = new JitWarmup(() -> total[0]);
        for (long ms : jitMillisPerStep) {
            total[0] += ms;
            i[0]++;
            if (w.warm(1.0)) {
                return i[0];
            }
        }
        return -1;
    }

    @Test
    void fiveQuietStepsInARow() {
        assertEquals(7, warmAfter(900, 200, 5, 9, 0, 3, 1, 0));
        assertEquals(10, warmAfter(900, 5, 0, 0, 150, 0, 0, 0, 0, 0), "a late compilation starts the count again");
        assertEquals(-1, warmAfter(900, 0, 0, 0));
    }

    @Test
    void capsAndNoJit() {
        long[] total = {0};
        JitWarmup busy = new JitWarmup(() -> total[0] += 100);
        int steps = 1;
        while (!busy.warm(0.01)) {
            steps++;
        }
        assertEquals(JitWarmup.MAX_STEPS, steps, "a JIT that never settles: the step cap");
        JitWarmup slow = new JitWarmup(() -> System.nanoTime());
        assertTrue(slow.warm(JitWarmup.MAX_SECONDS), "the time cap");
        assertTrue(new JitWarmup(null).warm(0.1), "no JIT time reported: one step");
    }
}
