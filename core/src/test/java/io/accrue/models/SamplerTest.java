package io.accrue.models;

import org.junit.jupiter.api.Test;

import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoding policy: greedy, temperature, top-k, top-p, keyed draws, and its bounds. */
class SamplerTest {
    /** Probabilities 0.1, 0.5, 0.15, 0.25 as logits (at temperature 1), behind an offset of 3 unused floats. */
    private static final float[] LOGITS = {9, 9, 9, (float) Math.log(0.1), (float) Math.log(0.5),
            (float) Math.log(0.15), (float) Math.log(0.25)};
    private static final int OFF = 3;
    private static final int V = 4;
    private static final int DRAWS = 20_000;

    /** Counts of each token over {@link #DRAWS} draws (steps 0, 1, … of sequence 0). */
    private static int[] counts(Sampler s) {
        int[] counts = new int[V];
        for (int j = 0; j < DRAWS; j++) {
            counts[s.next(LOGITS, OFF, V, 0, j)]++;
        }
        return counts;
    }

    private static double[] frequencies(int[] counts) {
        double[] f = new double[counts.length];
        for (int v = 0; v < f.length; v++) {
            f[v] = (double) counts[v] / DRAWS;
        }
        return f;
    }

    @Test
    void temperatureZeroIsTheArgmaxLowestIdFirst() {
        assertEquals(1, Sampler.greedy().next(LOGITS, OFF, V, 0, 0));
        assertEquals(1, Sampler.greedy().next(new float[] {0, 2, 2, 1}, 0, 4, 0, 0), "ties go to the lower id");
        assertEquals(1, new Sampler(0, 3, 0.2, 7).next(LOGITS, OFF, V, 5, 9), "top-k and top-p do not matter");
    }

    @Test
    void drawsFollowTheSoftmaxOfTheLogitsOverTheTemperature() {
        assertArrayEquals(new double[] {0.1, 0.5, 0.15, 0.25}, frequencies(counts(new Sampler(1, 0, 1, 3))), 0.015);
        // at T = 0.5 the probabilities are p²/Σp²: 0.01, 0.25, 0.0225, 0.0625 over 0.345
        double z = 0.345;
        assertArrayEquals(new double[] {0.01 / z, 0.25 / z, 0.0225 / z, 0.0625 / z},
                frequencies(counts(new Sampler(0.5, 0, 1, 3))), 0.015);
    }

    @Test
    void topKOneIsGreedyAndTopKKeepsTheKMostLikely() {
        Sampler one = new Sampler(1.7, 1, 1, 5);
        for (int j = 0; j < 200; j++) {
            assertEquals(1, one.next(LOGITS, OFF, V, 2, j));
        }
        // top 2: tokens 1 and 3, renormalized to 0.5/0.75 and 0.25/0.75
        assertArrayEquals(new double[] {0, 2 / 3.0, 0, 1 / 3.0}, frequencies(counts(new Sampler(1, 2, 1, 5))), 0.015);
    }

    @Test
    void topPKeepsTheFewestMostLikelyTokensReachingP() {
        // sorted: 0.5 (1), 0.25 (3), 0.15 (2), 0.1 (0); cumulative 0.5, 0.75, 0.9, 1
        assertArrayEquals(new double[] {0, 1, 0, 0}, frequencies(counts(new Sampler(1, 0, 0.4, 6))), 0.0);
        assertArrayEquals(new double[] {0, 0.5 / 0.9, 0.15 / 0.9, 0.25 / 0.9},
                frequencies(counts(new Sampler(1, 0, 0.8, 6))), 0.015);
        // top-k first, then top-p over the renormalized rest: of {1, 3} (2/3, 1/3), 0.6 keeps token 1 alone
        assertArrayEquals(new double[] {0, 1, 0, 0}, frequencies(counts(new Sampler(1, 2, 0.6, 6))), 0.0);
    }

    @Test
    void drawsAreKeyedBySeedSequenceAndStep() {
        IntUnaryOperator draw = j -> new Sampler(1, 0, 1, 11).next(LOGITS, OFF, V, 4, j);
        Sampler reused = new Sampler(1, 0, 1, 11);
        int differentSeed = 0;
        int differentSequence = 0;
        for (int j = 0; j < 300; j++) {
            assertEquals(draw.applyAsInt(j), reused.next(LOGITS, OFF, V, 4, j), "step " + j);
            differentSeed += new Sampler(1, 0, 1, 12).next(LOGITS, OFF, V, 4, j) != draw.applyAsInt(j) ? 1 : 0;
            differentSequence += reused.next(LOGITS, OFF, V, 5, j) != draw.applyAsInt(j) ? 1 : 0;
        }
        assertTrue(differentSeed > 50 && differentSequence > 50, differentSeed + ", " + differentSequence);
    }

    @Test
    void boundsAreCheckedWithTheFieldAndValue() {
        assertMessage("temperature must be a number ≥ 0 (0: greedy), got -0.5", () -> new Sampler(-0.5, 0, 1, 1));
        assertMessage("temperature must be a number ≥ 0 (0: greedy), got NaN", () -> new Sampler(Double.NaN, 0, 1, 1));
        assertMessage("top-k must be ≥ 0 (0: no limit), got -1", () -> new Sampler(1, -1, 1, 1));
        assertMessage("top-p must be in (0, 1] (1: no limit), got 0.0", () -> new Sampler(1, 0, 0, 1));
        assertMessage("top-p must be in (0, 1] (1: no limit), got 1.5", () -> new Sampler(1, 0, 1.5, 1));
    }

    private static void assertMessage(String message, Runnable r) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, r::run).getMessage());
    }
}
