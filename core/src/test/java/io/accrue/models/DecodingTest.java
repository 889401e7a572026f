package io.accrue.models;

import io.accrue.autograd.DryRun;
import io.accrue.autograd.Tape;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.KeyedRandom;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The key/value cache and decoding: a cached position's logits have the bits of the full forward pass's row, decoding
 * is the full passes' argmax, and sequences stop at the context.
 */
class DecodingTest {
    /** HS = 18 and T = 40: neither is a whole number of vectors, so the kernels' tails run too. */
    private static final GptConfig CONFIG = new GptConfig(2, 4, 72, 40, 97, 0f);

    private static int[] tokens(int n, long seed) {
        int[] t = new int[n];
        Arrays.setAll(t, i -> (int) Long.remainderUnsigned(KeyedRandom.hash(seed, i, 0, 0), CONFIG.vocab()));
        return t;
    }

    /** The full pass's logits (T, V) over {@code seq}, as an array. */
    private static float[] fullLogits(Gpt model, Tape tape, int[] seq) {
        tape.setTraining(false);
        Tensor logits = model.logits(tape, new TokenBatch(seq, new int[seq.length], new long[] {0}, 1, seq.length));
        float[] out = logits.toArray();
        tape.reset();
        return out;
    }

    private static float[] row(float[] logits, int r) {
        return Arrays.copyOfRange(logits, r * CONFIG.vocab(), (r + 1) * CONFIG.vocab());
    }

    @Test
    void cachedLogitsHaveTheFullPassBitsAtEveryPosition() {
        Gpt model = new Gpt(CONFIG, 3);
        int[] seq = tokens(CONFIG.context(), 11);
        for (int threads = 1; threads <= 2; threads++) {
            try (Compute compute = new Compute(threads)) {
                Tape tape = new Tape(compute, new Arena());
                float[] full = fullLogits(model, tape, seq);
                tape.setTraining(false);
                KvCache cache = new KvCache(tape, CONFIG, 1, CONFIG.context());
                Arena.Mark mark = tape.arena().mark();
                for (int p = 0; p < seq.length; p++) {
                    Tensor step = model.logits(tape, cache, new int[] {seq[p]}, new int[] {0});
                    assertArrayEquals(row(full, p), step.toArray(), "position " + p + ", " + threads + " threads");
                    tape.resetTo(mark);
                }
                assertEquals(CONFIG.context(), cache.length(0));
            }
        }
    }

    @Test
    void promptsPassedTogetherThenStepwiseHaveTheFullPassBits() {
        Gpt model = new Gpt(CONFIG, 4);
        int[] a = tokens(30, 1);
        int[] b = tokens(17, 2);
        try (Compute compute = new Compute(2)) {
            Tape tape = new Tape(compute, new Arena());
            float[] fullA = fullLogits(model, tape, a);
            float[] fullB = fullLogits(model, tape, b);
            tape.setTraining(false);
            KvCache cache = new KvCache(tape, CONFIG, 2, 30);
            int[] rows = new int[20 + 9];
            int[] seqs = new int[rows.length];
            System.arraycopy(a, 0, rows, 0, 20);
            System.arraycopy(b, 0, rows, 20, 9);
            Arrays.fill(seqs, 20, rows.length, 1);
            float[] first = model.logits(tape, cache, rows, seqs).toArray(); // the last row of each: (2, V)
            assertArrayEquals(row(fullA, 19), row(first, 0));
            assertArrayEquals(row(fullB, 8), row(first, 1));
            for (int p = 20, q = 9; p < a.length; p++, q++) {
                boolean both = q < b.length;
                float[] step = model.logits(tape, cache, both ? new int[] {b[q], a[p]} : new int[] {a[p]},
                        both ? new int[] {1, 0} : new int[] {0}).toArray();
                if (both) {
                    assertArrayEquals(row(fullB, q), row(step, 0), "b at " + q);
                }
                assertArrayEquals(row(fullA, p), row(step, both ? 1 : 0), "a at " + p);
            }
            var full = assertThrows(IllegalArgumentException.class,
                    () -> model.logits(tape, cache, new int[] {1}, new int[] {0}));
            assertTrue(full.getMessage().contains("sequence 0 is full"), full.getMessage());
        }
    }

    @Test
    void greedyDecodingIsTheArgmaxOfFullPasses() {
        Gpt model = new Gpt(CONFIG, 5);
        int[][] prompts = {tokens(3, 7), tokens(8, 8)};
        try (Compute compute = new Compute(2)) {
            Tape tape = new Tape(compute, new Arena());
            int[][] got = Decoding.greedy(model, tape, prompts, 12);
            assertTrue(tape.training(), "the tape's mode is given back");
            for (int i = 0; i < prompts.length; i++) {
                int[] seq = prompts[i];
                for (int j = 0; j < 12; j++) {
                    int next = Sampler.argmax(fullLogits(model, tape, seq), (seq.length - 1) * CONFIG.vocab(),
                            CONFIG.vocab());
                    assertEquals(next, got[i][j], "prompt " + i + ", token " + j);
                    seq = Arrays.copyOf(seq, seq.length + 1);
                    seq[seq.length - 1] = next;
                }
            }
        }
    }

    @Test
    void sequencesStopAtTheContext() {
        Gpt model = new Gpt(CONFIG, 6);
        int t = CONFIG.context();
        try (Compute compute = new Compute(1)) {
            Tape tape = new Tape(compute, new Arena());
            int[][] out = Decoding.generate(model, tape, new int[][] {tokens(5, 1), tokens(t, 2)}, 100,
                    new Sampler(1, 0, 1, 9));
            assertEquals(t - 5 + 1, out[0].length, "a prompt of n tokens gets T - n + 1");
            assertEquals(1, out[1].length, "a prompt of T tokens gets one");
            assertEquals(4, Decoding.greedy(model, tape, new int[][] {tokens(5, 1)}, 4)[0].length);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Decoding.greedy(model, tape, new int[][] {tokens(t + 1, 3)}, 1));
            assertTrue(e.getMessage().contains("41 tokens") && e.getMessage().contains("context"), e.getMessage());
        }
    }

    @Test
    void samplingIsAPureFunctionOfTheSeed() {
        Gpt model = new Gpt(CONFIG, 7);
        int[][] prompts = {tokens(4, 1)};
        try (Compute compute = new Compute(2)) {
            Tape tape = new Tape(compute, new Arena());
            int[] a = Decoding.generate(model, tape, prompts, 30, new Sampler(1.5, 20, 0.9, 42))[0];
            int[] b = Decoding.generate(model, tape, prompts, 30, new Sampler(1.5, 20, 0.9, 42))[0];
            int[] c = Decoding.generate(model, tape, prompts, 30, new Sampler(1.5, 20, 0.9, 43))[0];
            assertArrayEquals(a, b);
            assertTrue(!Arrays.equals(a, c), "another seed, another text");
        }
    }

    @Test
    void thePlanIsTheArenaDecodingUses() {
        Gpt model = new Gpt(CONFIG, 8);
        int[] lengths = {6, 9};
        DryRun run = new DryRun();
        try (Compute compute = new Compute(2)) {
            Decoding.plan(Gpt.shapesOnly(CONFIG), new Tape(compute, run), lengths, 10);
            Tape tape = new Tape(compute, new Arena());
            Decoding.greedy(model, tape, new int[][] {tokens(6, 1), tokens(9, 2)}, 10);
            assertEquals(tape.arena().highWaterFloats(), run.arena().highWaterFloats());
        }
    }
}
