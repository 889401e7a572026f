package io.accrue.train;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The lanes Accrue chooses when concurrent micro-batches are left to it. */
class MicroBatchLanesTest {
    /** Activations of a micro-batch where lanes pay. */
    private static final long PAYS = 100L << 20;

    private static int lanes(int threads, int k, boolean mixesExamples, IntPredicate fits) {
        return MicroBatchLanes.choose(threads, k, mixesExamples, PAYS, fits);
    }

    @Test
    void onlyWhereAMicroBatchsActivationsSayTheKernelsAreOfMiddlingSize() {
        assertEquals(2, MicroBatchLanes.choose(2, 32, false, MicroBatchLanes.MIN_ACTIVATION_BYTES, n -> true));
        assertEquals(1, MicroBatchLanes.choose(2, 32, false, MicroBatchLanes.MIN_ACTIVATION_BYTES - 1, n -> true),
                "the tiny GPT, the MLP, the plain CNN");
        assertEquals(2, MicroBatchLanes.choose(2, 32, false, MicroBatchLanes.MAX_ACTIVATION_BYTES, n -> true));
        assertEquals(1, MicroBatchLanes.choose(2, 32, false, MicroBatchLanes.MAX_ACTIVATION_BYTES + 1, n -> true),
                "gpt2 at B = 1");
    }

    @Test
    void oneLanePerThreadWhenKDividesAmongThem() {
        assertEquals(2, lanes(2, 32, false, n -> true));
        assertEquals(2, lanes(2, 4, false, n -> true));
        assertEquals(3, lanes(4, 6, false, n -> true), "4 lanes would leave 2 of them idle");
        assertEquals(2, lanes(4, 4, false, n -> true), "two rounds each");
        assertEquals(4, lanes(4, 16, false, n -> true));
    }

    @Test
    void anUnevenLastRoundOnlyWhenKHoldsFourRounds() {
        assertEquals(1, lanes(2, 3, false, n -> true), "2 then 1: the second lane idles");
        assertEquals(1, lanes(2, 5, false, n -> true));
        assertEquals(1, lanes(2, 7, false, n -> true));
        assertEquals(2, lanes(2, 9, false, n -> true));
    }

    @Test
    void oneAtATimeWithOneThreadOneMicroBatchOrBatchNorm() {
        assertEquals(1, lanes(1, 32, false, n -> true));
        assertEquals(1, lanes(2, 1, false, n -> true));
        assertEquals(1, lanes(2, 2, false, n -> true), "one round per lane never fills their pipeline");
        assertEquals(1, lanes(2, 32, true, n -> true));
    }

    @Test
    void theMostLanesWhosePlanFits() {
        List<Integer> asked = new ArrayList<>();
        assertEquals(2, lanes(4, 8, false, n -> {
            asked.add(n);
            return n <= 2;
        }));
        assertEquals(List.of(4, 2), asked, "3 lanes do not divide K = 8 and K holds fewer than 4 rounds of them");
        assertEquals(1, lanes(2, 32, false, n -> false));
    }
}
