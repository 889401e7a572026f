package io.accrue.models;

import io.accrue.autograd.Loss;
import io.accrue.autograd.Tape;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.KeyedRandom;
import io.accrue.tensor.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GptTest {

    private static TokenBatch randomBatch(int b, int t, int v, long seed) {
        int[] in = new int[b * t];
        int[] tg = new int[b * t];
        long[] ids = new long[b];
        for (int i = 0; i < b * t; i++) {
            in[i] = (int) Long.remainderUnsigned(KeyedRandom.hash(seed, i, 0, 0), v);
            tg[i] = (int) Long.remainderUnsigned(KeyedRandom.hash(seed, i, 1, 0), v);
        }
        for (int i = 0; i < b; i++) {
            ids[i] = i;
        }
        return new TokenBatch(in, tg, ids, b, t);
    }

    @Test
    void namedConfigsHaveTheReferenceParameterCounts() {
        assertEquals(124_439_808L, GptConfig.named("gpt2").parameterCount(), "Hugging Face gpt2");
        assertEquals(354_823_168L, GptConfig.named("gpt2-medium").parameterCount(), "Hugging Face gpt2-medium");
        GptConfig tiny = GptConfig.named("tiny");
        assertEquals(tiny.parameterCount(), new Gpt(tiny, 1).parameters().size());
        var e = assertThrows(IllegalArgumentException.class, () -> GptConfig.named("gpt5"));
        assertTrue(e.getMessage().contains("gpt5") && e.getMessage().contains("tiny"), e.getMessage());
    }

    @Test
    void parametersUseHuggingFaceGpt2Names() {
        Gpt gpt = new Gpt(GptConfig.named("tiny"), 1);
        List<String> names = gpt.parameters().parameters().stream().map(Parameter::name).toList();
        assertEquals("wte.weight", names.getFirst());
        assertEquals("ln_f.bias", names.getLast());
        assertTrue(names.containsAll(List.of("wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight",
                "h.0.attn.c_attn.bias", "h.0.attn.c_proj.weight", "h.1.mlp.c_fc.weight", "h.1.mlp.c_proj.bias",
                "h.1.ln_2.bias")), names.toString());
        assertEquals(List.of(384, 128), List.of(gpt.parameters().tensor("h.0.attn.c_attn.weight").dim(0),
                gpt.parameters().tensor("h.0.attn.c_attn.weight").dim(1)));
    }

    @Test
    void initialLossIsLogVocabularyAndGradientsAreThreadInvariant() {
        GptConfig cfg = GptConfig.named("tiny").withContext(32).withDropout(0.1f);
        float[] reference = null;
        for (int threads = 1; threads <= 3; threads++) {
            Gpt gpt = new Gpt(cfg, 5);
            try (Compute compute = new Compute(threads)) {
                Tape tape = new Tape(compute, new Arena());
                Loss loss = gpt.loss(tape, randomBatch(3, 32, cfg.vocab(), 9));
                assertEquals(96, loss.count());
                assertEquals(Math.log(cfg.vocab()), loss.sum() / loss.count(), 0.1, "loss at init ≈ ln V");
                tape.backward();
                gpt.parameters().foldTiedGradients();
                float[] g = gpt.parameters().grads().clone();
                if (reference == null) {
                    reference = g;
                } else {
                    assertArrayEquals(reference, g, "gradients with " + threads + " threads");
                }
            }
        }
    }

    @Test
    void sequenceLongerThanContextIsRejected() {
        Gpt gpt = new Gpt(GptConfig.named("tiny").withContext(8), 1);
        try (Compute compute = new Compute(1)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> gpt.loss(new Tape(compute, new Arena()), randomBatch(1, 9, 256, 1)));
            assertTrue(e.getMessage().contains("9") && e.getMessage().contains("8"), e.getMessage());
        }
    }

    @Test
    void recyclingActivationGradientsChangesNoBitAndShrinksTheArena() {
        GptConfig cfg = GptConfig.named("tiny").withContext(32).withDropout(0.1f);
        TwoMicroBatches plain = TwoMicroBatches.run(new Gpt(cfg, 5), false);
        TwoMicroBatches recycled = TwoMicroBatches.run(new Gpt(cfg, 5), true);
        assertArrayEquals(plain.grads(), recycled.grads(), "recycling must not change a bit");
        assertTrue(recycled.highWater() < 0.7 * plain.highWater(),
                "arena " + recycled.highWater() + " vs " + plain.highWater() + " floats");
    }

    @Test
    void activationCheckpointingGivesTheSameGradientsWithLessArena() {
        GptConfig cfg = GptConfig.named("tiny").withContext(32).withDropout(0.1f);
        TwoMicroBatches kept = TwoMicroBatches.run(new Gpt(cfg, 5), true);
        TwoMicroBatches recomputed = TwoMicroBatches.run(new Gpt(cfg, 5).checkpointActivations(true), true);
        assertArrayEquals(kept.grads(), recomputed.grads(), "checkpointing must not change a bit");
        assertTrue(recomputed.highWater() < kept.highWater(),
                "arena " + recomputed.highWater() + " vs " + kept.highWater() + " floats");
    }

    /** The summed gradients of two micro-batches (the second reuses the arena) and the arena's high-water mark. */
    private record TwoMicroBatches(float[] grads, long highWater) {
        static TwoMicroBatches run(Gpt gpt, boolean recycleGradients) {
            try (Compute compute = new Compute(2)) {
                Arena arena = new Arena();
                Tape tape = new Tape(compute, arena, recycleGradients);
                for (int step = 0; step < 2; step++) {
                    gpt.loss(tape, randomBatch(2, 32, gpt.config().vocab(), 3 + step));
                    tape.backward();
                    tape.reset();
                }
                gpt.parameters().foldTiedGradients();
                return new TwoMicroBatches(gpt.parameters().grads().clone(), arena.highWaterFloats());
            }
        }
    }
}
