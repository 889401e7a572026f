package io.accrue.train;

import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.autograd.Tape;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryPlannerTest {

    @Test
    void planArithmeticOnAHandComputedConfig() {
        // L=1, NH=1, C=4, T=2, V=3; B=1: N=2 rows.
        GptConfig cfg = new GptConfig(1, 1, 4, 2, 3, 0f);
        // params: wte 12 + wpe 8 + block (ln 8+8, c_attn 48+12, c_proj 16+4, c_fc 64+16, c_proj 64+4) + ln_f 8
        assertEquals(272, cfg.parameterCount());
        // outputs: embeddings 3·N·C = 24, block 18·N·C = 144, ln_f N·C + logits N·V = 14 → 182
        // scratch: ln 2N+2N, attention probs B·NH·T·T = 4, forward Kᵀ HS·(T+16) = 72 and V T·HS = 8, backward
        // Vᵀ 72 + dS T·T 4 + K, Q, dY 3·T·HS 24, ln_f 2N, loss 3N → 202
        // recycled gradients, the most alive at once per size: 3 of N·C (a residual add's output and its two
        // inputs), 2 of 4·N·C (gelu's output and input), 1 of 3·N·C (qkv), 1 of N·V (logits) → 24+64+24+6 = 118
        assertEquals(182 + 202 + 118, MemoryPlanner.gptArenaFloats(cfg, 1, 2, 1, false));
        MemoryPlan p = MemoryPlanner.plan(cfg, 1, 4, 2, OptimizerKind.ADAMW, 0, 1, false);
        assertEquals(4 * 272, p.weightsBytes(), "matrices this small are not held");
        // small at B = 1, K = 32 (256 rows): each layer holds c_attn 1152×384, attn c_proj 384×384, c_fc 1536×384
        // and mlp c_proj 384×1536 twice, as W for dX = dY·W and as Wᵀ for the forward's X·Wᵀ (column counts are
        // multiples of 32, so no padding); the tied head (65×384) once, as W for dX (its forward X·Wᵀ, 65 columns,
        // runs swapped and reads W in place); and 12 floats before each of the 49 panels, which start on a cache
        // line (the tests' JVM aligns objects to 64 bytes and has 16-byte array headers: CacheLinesTest)
        GptConfig small = GptConfig.named("small");
        long params = small.parameterCount();
        long held = 2 * 6L * (1152 * 384 + 384 * 384 + 1536 * 384 + 384 * 1536) + 65 * 384 + 49 * 12;
        assertEquals(4 * (params + held),
                MemoryPlanner.plan(small, 1, 32, 256, OptimizerKind.ADAMW, 0, 2, false).weightsBytes());
        assertEquals(4 * params, MemoryPlanner.plan(small, 1, 1, 256, OptimizerKind.ADAMW, 0, 2, false).weightsBytes(),
                "K = 1 holds nothing");
        assertEquals(4 * params, MemoryPlanner.plan(small, 8, 4, 256, OptimizerKind.ADAMW, 0, 2, false).weightsBytes(),
                "2,048 rows per micro-batch hold nothing");
        assertEquals(4 * (272 + 12), p.gradsBytes(), "plus the tied head's gradient slot");
        assertEquals(2 * 4 * 272, p.optimizerBytes());
        assertEquals(4 * 502, p.activationBytes());
        assertEquals(0, MemoryPlanner.plan(cfg, 1, 4, 2, OptimizerKind.SGD, 0, 1, false).optimizerBytes());
    }

    @Test
    void predictedArenaEqualsTheMeasuredHighWaterMarkExactly() {
        for (GptConfig cfg : new GptConfig[] {GptConfig.named("tiny").withContext(32),
                GptConfig.named("tiny").withContext(24).withDropout(0.1f), new GptConfig(3, 3, 48, 16, 50, 0f)}) {
            for (int threads : new int[] {1, 2, 3}) {
              for (boolean checkpointing : new boolean[] {false, true}) {
                int b = 3;
                int t = cfg.context();
                Gpt gpt = new Gpt(cfg, 1).checkpointActivations(checkpointing);
                try (Compute compute = new Compute(threads)) {
                    Arena arena = new Arena();
                    Tape tape = new Tape(compute, arena);
                    int[] ids = new int[b * t];
                    long[] ex = {0, 1, 2};
                    gpt.loss(tape, new TokenBatch(ids, ids, ex, b, t));
                    tape.backward();
                    tape.reset();
                    assertEquals(MemoryPlanner.gptArenaFloats(cfg, b, t, threads, checkpointing),
                            arena.highWaterFloats(), cfg + " threads=" + threads + " checkpointing=" + checkpointing);
                }
              }
            }
        }
    }

    @Test
    void fitPicksTheLargestMicroBatchThatFitsAndRefusesImpossibleBudgets() {
        GptConfig small = GptConfig.named("small");
        MemoryPlan p = MemoryPlanner.fit(small, 2L << 30, 64, 256, OptimizerKind.ADAMW, 0, 2, false);
        assertEquals(64, p.microBatch() * p.accumulation());
        assertTrue(p.totalBytes() <= 2L << 30);
        MemoryPlan bigger = MemoryPlanner.plan(small, nextDivisor(64, p.microBatch()), 1, 256, OptimizerKind.ADAMW, 0, 2, false);
        assertTrue(p.microBatch() == 64 || bigger.totalBytes() > 2L << 30, "the next larger micro-batch must not fit");
        var e = assertThrows(IllegalArgumentException.class,
                () -> MemoryPlanner.fit(GptConfig.named("gpt2-medium"), 1L << 30, 32, 1024, OptimizerKind.ADAMW, 0, 2, false));
        assertTrue(e.getMessage().contains("micro-batch 1") && e.getMessage().contains("activation checkpointing"),
                e.getMessage());
    }

    private static int nextDivisor(int n, int b) {
        for (int d = b + 1; d <= n; d++) {
            if (n % d == 0) {
                return d;
            }
        }
        return n;
    }
}
