package io.accrue.train;

import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryUsageTest {

    /**
     * L=1, NH=1, C=4, T=2, V=3. Parameters: wte 3·4 + wpe 2·4 + one block (ln_1 2·4, c_attn 4·12 + 12, attn c_proj
     * 4·4 + 4, ln_2 2·4, c_fc 4·16 + 16, mlp c_proj 16·4 + 4 = 244) + ln_f 2·4 = 272 floats; the tied head adds a
     * gradient slot of 3·4 = 12 floats.
     */
    /** Weights held for a window (K = 2 at 4 rows, c_fc 1024×256 = 2^18 floats) count as the planner predicts. */
    @Test
    void heldWeightsAreCountedAsPlanned() {
        GptConfig cfg = new GptConfig(1, 1, 256, 2, 3, 0f);
        TrainConfig tc = TrainConfig.builder().microBatch(2).accumulationSteps(2).maxSteps(1).threads(2).build();
        try (Trainer<TokenBatch> trainer = new Trainer<>(tc, new Gpt(cfg, 1), Fixtures.sequences(4, 2, 3, 3, 5))) {
            trainer.fit();
            long planned = MemoryPlanner.plan(cfg, 2, 2, 2, OptimizerKind.ADAMW, 0, 2, false).weightsBytes();
            assertEquals(planned, trainer.memoryUsage().weightsBytes());
            assertTrue(planned >= 4 * (cfg.parameterCount() + 2L * 1024 * 256), "c_fc and mlp c_proj held: " + planned);
        }
    }

    @Test
    void weightsGradientsAndAdamWStateOfATinyGptAreCountedByHand() {
        GptConfig cfg = new GptConfig(1, 1, 4, 2, 3, 0f);
        Gpt model = new Gpt(cfg, 1);
        TrainConfig tc = TrainConfig.builder().microBatch(2).accumulationSteps(2).maxSteps(2).threads(1).build();
        List<StepMetrics> steps = new ArrayList<>();
        try (Trainer<TokenBatch> trainer = new Trainer<>(tc, model, Fixtures.sequences(8, 2, 3, 3, 5))) {
            MemoryUsage before = trainer.memoryUsage();
            assertEquals(272 * 4, before.weightsBytes());
            assertEquals((272 + 12) * 4, before.gradsBytes());
            assertEquals(List.of(272L * 4, 272L * 4), before.optimizerStateBytes(), "AdamW m and v");
            assertEquals(0, before.arenaHighWaterBytes(), "nothing allocated before the first forward");
            trainer.addListener(steps::add);
            trainer.fit();
            MemoryUsage after = trainer.memoryUsage();
            long arena = steps.getLast().arenaFloats() * 4;
            assertTrue(arena > 0);
            assertEquals(arena, after.arenaHighWaterBytes());
            assertEquals(trainer.tape().arena().highWaterFloats() * 4, after.arenaHighWaterBytes());
            assertEquals(2 * 272 * 4, after.optimizerBytes());
            assertEquals(272 * 4 + 284 * 4 + 2 * 272 * 4 + arena, after.totalBytes());
        }
    }

    @Test
    void sgdWithMomentumHasOneStateBufferAndWithoutNone() {
        Gpt model = new Gpt(new GptConfig(1, 1, 4, 2, 3, 0f), 1);
        TrainConfig momentum = TrainConfig.builder().microBatch(1).accumulationSteps(1).optimizer(OptimizerKind.SGD).momentum(0.9).threads(1).build();
        TrainConfig plain = TrainConfig.builder().microBatch(1).accumulationSteps(1).optimizer(OptimizerKind.SGD).momentum(0).threads(1).build();
        try (Trainer<TokenBatch> a = new Trainer<>(momentum, model, Fixtures.sequences(4, 2, 3, 3, 5));
             Trainer<TokenBatch> b = new Trainer<>(plain, model, Fixtures.sequences(4, 2, 3, 3, 5))) {
            assertEquals(List.of(272L * 4), a.memoryUsage().optimizerStateBytes());
            assertEquals(List.of(), b.memoryUsage().optimizerStateBytes());
            assertEquals(272 * 4 + 284 * 4, b.memoryUsage().totalBytes());
        }
    }

    @Test
    void negativeBytesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new MemoryUsage(-1, 0, List.of(), 0));
    }
}
