package io.accrue.train;

import io.accrue.autograd.BatchNormOp;
import io.accrue.autograd.DryRun;
import io.accrue.autograd.RunningStats;
import io.accrue.autograd.Tape;
import io.accrue.data.FeatureDataset;
import io.accrue.models.Cnn;
import io.accrue.models.CnnConfig;
import io.accrue.models.FeatureBatch;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Mlp;
import io.accrue.models.MlpConfig;
import io.accrue.models.Model;
import io.accrue.models.TokenBatch;
import io.accrue.nn.NormKind;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.KeyedRandom;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
        // scratch: ln 2N+2N, attention's row statistics B·NH·T·2 = 4, forward Kᵀ HS·(T+16) = 72, V T·HS = 8 and
        // a block of S min(64, T)·(T+16) = 36, backward Kᵀ and Vᵀ 144 + K, Q, dY 3·T·HS 24 + a block's P and dS 72,
        // ln_f 2N, loss 3N → 378
        // recycled gradients, the most alive at once per size: 3 of N·C (a residual add's output and its two
        // inputs), 2 of 4·N·C (gelu's output and input), 1 of 3·N·C (qkv), 1 of N·V (logits) → 24+64+24+6 = 118
        Gpt shapes = Gpt.shapesOnly(cfg);
        assertEquals(182 + 378 + 118, MemoryPlanner.arenaFloats(shapes, shapes.planningBatch(1), 1));
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
        assertEquals(4 * 678, p.activationBytes());
        assertEquals(0, MemoryPlanner.plan(cfg, 1, 4, 2, OptimizerKind.SGD, 0, 1, false).optimizerBytes());
    }

    /** The high-water mark of one real micro-batch's forward and backward on a fresh arena. */
    private static <I> long measured(Model<I> model, I batch, int threads) {
        try (Compute compute = new Compute(threads)) {
            Arena arena = new Arena();
            Tape tape = new Tape(compute, arena);
            model.loss(tape, batch);
            tape.backward();
            tape.reset();
            return arena.highWaterFloats();
        }
    }

    /** B random sequences of T tokens, every 5th target ignored (values do not change what is allocated). */
    private static TokenBatch tokens(int b, int t, int vocab) {
        int[] in = new int[b * t];
        int[] target = new int[b * t];
        long[] ids = new long[b];
        for (int i = 0; i < b * t; i++) {
            in[i] = (int) Long.remainderUnsigned(KeyedRandom.hash(9, i, 0, 0), vocab);
            target[i] = i % 5 == 4 ? TokenBatch.IGNORE : (int) Long.remainderUnsigned(KeyedRandom.hash(9, i, 1, 0), vocab);
        }
        for (int i = 0; i < b; i++) {
            ids[i] = 10 + i;
        }
        return new TokenBatch(in, target, ids, b, t);
    }

    private static FeatureBatch features(int b, int width) {
        FeatureDataset data = Fixtures.features(b, width, 2, 4);
        int[] all = new int[b];
        for (int i = 0; i < b; i++) {
            all[i] = i;
        }
        return data.batch(all);
    }

    @Test
    void gptPredictionEqualsTheMeasuredHighWaterMarkExactly() {
        for (GptConfig cfg : new GptConfig[] {GptConfig.named("tiny").withContext(32),
                GptConfig.named("tiny").withContext(24).withDropout(0.1f), new GptConfig(3, 3, 48, 16, 50, 0f),
                new GptConfig(2, 2, 32, 20, 40, 0.2f)}) {
            for (int threads : new int[] {1, 2, 3}) {
                for (boolean checkpointing : new boolean[] {false, true}) {
                    int b = 3;
                    int t = cfg.context() - 3; // a sequence shorter than the context, as the planner allows
                    Gpt real = new Gpt(cfg, 1).checkpointActivations(checkpointing);
                    long planned = MemoryPlanner.plan(cfg, b, 2, t, OptimizerKind.ADAMW, 0, threads, checkpointing)
                            .activationBytes() / 4;
                    assertEquals(measured(real, tokens(b, t, cfg.vocab()), threads), planned,
                            cfg + " threads=" + threads + " checkpointing=" + checkpointing);
                }
            }
        }
    }

    @Test
    void mlpPredictionEqualsTheMeasuredHighWaterMarkExactly() {
        for (NormKind norm : NormKind.values()) {
            for (float dropout : new float[] {0f, 0.25f}) {
                MlpConfig cfg = new MlpConfig(20, List.of(16, 24), 3, norm, 4, dropout, 5);
                for (int threads : new int[] {1, 2, 3}) {
                    int b = 5;
                    long planned = MemoryPlanner.plan(Mlp.shapesOnly(cfg), b, 4, OptimizerKind.SGD, 0.9, threads, 1)
                            .activationBytes() / 4;
                    assertEquals(measured(new Mlp(cfg), features(b, cfg.inputs()), threads), planned,
                            norm + " dropout=" + dropout + " threads=" + threads);
                }
            }
        }
    }

    @Test
    void cnnPredictionEqualsTheMeasuredHighWaterMarkExactly() {
        for (NormKind norm : new NormKind[] {NormKind.NONE, NormKind.LAYER, NormKind.GROUP, NormKind.BATCH}) {
            CnnConfig cfg = new CnnConfig(2, 12, 8, 4, 8, 5, norm, 2, 3);
            for (int threads : new int[] {1, 2, 3}) {
                int b = 3;
                long planned = MemoryPlanner.plan(Cnn.shapesOnly(cfg), b, 2, OptimizerKind.ADAMW, 0, threads, 1)
                        .activationBytes() / 4;
                assertEquals(measured(new Cnn(cfg), features(b, cfg.inputs()), threads), planned,
                        norm + " threads=" + threads);
            }
        }
    }

    /** A counting arena keeps a real arena's books also where the first chunk is outgrown and tails are skipped. */
    @Test
    void countingArenaKeepsTheRealArenasBooksAcrossChunks() {
        GptConfig cfg = GptConfig.named("tiny");
        Gpt gpt = new Gpt(cfg, 1).checkpointActivations(true);
        TokenBatch batch = tokens(8, 128, cfg.vocab());
        for (long first : new long[] {0, 1 << 19}) {
            try (Compute compute = new Compute(2)) {
                Arena real = new Arena(first);
                Tape tape = new Tape(compute, real);
                gpt.loss(tape, batch);
                tape.backward();
                tape.reset();
                DryRun run = new DryRun(first);
                Tape planning = new Tape(compute, run);
                gpt.loss(planning, batch);
                planning.backward();
                planning.reset();
                assertTrue(real.capacityFloats() > Math.max(first, 1 << 20), "chunks were added: " + real);
                assertEquals(real.highWaterFloats(), run.arena().highWaterFloats(), "first chunk " + first);
                assertEquals(real.capacityFloats(), run.arena().capacityFloats(), "first chunk " + first);
            }
        }
    }

    /**
     * For an Mlp every part of the plan equals what a trainer holds after a window: the held weights come from
     * the dry run's products by a weight, the arenas from its counting arena, one per concurrent micro-batch.
     */
    @Test
    void anMlpPlanEqualsATrainersMeasuredUsage() {
        MlpConfig cfg = new MlpConfig(96, List.of(256, 128), 10, NormKind.LAYER, 4, 0.1f, 5);
        FeatureDataset data = Fixtures.features(64, 96, 10, 2);
        for (int concurrent : new int[] {1, 2, 3}) {
            MemoryPlan plan = MemoryPlanner.plan(Mlp.shapesOnly(cfg), 4, 4, OptimizerKind.ADAMW, 0, 3, concurrent);
            TrainConfig tc = TrainConfig.builder().microBatch(4).accumulationSteps(4).maxSteps(2).threads(3)
                    .concurrentMicroBatches(concurrent).build();
            try (Trainer<FeatureBatch> t = new Trainer<>(tc, new Mlp(cfg), data, plan.activationBytes() / 4)) {
                t.fit();
                MemoryUsage used = t.memoryUsage();
                assertEquals(plan.weightsBytes(), used.weightsBytes(), "concurrent=" + concurrent);
                assertEquals(plan.gradsBytes(), used.gradsBytes());
                assertEquals(plan.optimizerBytes(), used.optimizerBytes());
                assertEquals(plan.activationBytes(), used.arenaHighWaterBytes(), "concurrent=" + concurrent);
            }
            long params = new Mlp(cfg).parameters().size();
            assertTrue(plan.weightsBytes() > 4 * (params + 256 * 96), "layers.0 held (W and Wᵀ): " + plan);
        }
    }

    /** Planning on a real model reads no weight and writes nothing: weights, gradients and running stats stay. */
    @Test
    void aDryRunLeavesARealModelUntouched() {
        Mlp mlp = new Mlp(new MlpConfig(12, List.of(16), 3, NormKind.BATCH, 4, 0f, 5));
        ParameterStore store = mlp.parameters();
        float[] values = store.values().clone();
        float[] grads = store.grads().clone();
        MemoryPlanner.plan(mlp, 6, 2, OptimizerKind.ADAMW, 0, 2, 1);
        assertArrayEquals(values, store.values());
        assertArrayEquals(grads, store.grads());
        RunningStats stats = new RunningStats(4);
        try (Compute compute = new Compute(1)) {
            Tape planning = new Tape(compute, new DryRun());
            Tensor x = planning.scratch(6, 4);
            BatchNormOp.forward(planning, x, Tensor.zeros(4).requireGrad(), Tensor.zeros(4), stats, 1e-5f);
            planning.backward();
        }
        assertArrayEquals(new float[4], stats.mean(), "running mean untouched");
        assertArrayEquals(new float[] {1, 1, 1, 1}, stats.var(), "running var untouched");
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

        Cnn cnn = Cnn.shapesOnly(CnnConfig.fashionMnist(NormKind.GROUP, 1));
        MemoryPlan all = MemoryPlanner.plan(cnn, 32, 1, OptimizerKind.ADAMW, 0, 2, 1);
        MemoryPlan fitted = MemoryPlanner.fit(cnn, all.totalBytes() - 1, 32, OptimizerKind.ADAMW, 0, 2, 1);
        assertEquals(16, fitted.microBatch(), "one byte short of B = 32 gives B = 16");
        assertEquals(2, fitted.accumulation());
        var none = assertThrows(IllegalArgumentException.class,
                () -> MemoryPlanner.fit(cnn, 1 << 20, 32, OptimizerKind.ADAMW, 0, 2, 1));
        assertTrue(none.getMessage().contains("micro-batch 1") && none.getMessage().contains("SGD"), none.getMessage());
    }

    /**
     * gpt2-medium with AdamW at B = 1, T = 1024 fits 8 GiB without activation checkpointing: attention saves two
     * floats per row instead of its (T, T) probabilities (1.5 GB over 24 layers and 16 heads).
     */
    @Test
    void gpt2MediumAtMicroBatchOneFitsEightGigabytesWithoutCheckpointing() {
        MemoryPlan p = MemoryPlanner.plan(GptConfig.named("gpt2-medium"), 1, 32, 1024, OptimizerKind.ADAMW, 0, 2,
                false);
        assertTrue(p.totalBytes() <= 8L << 30, "planned " + p.totalBytes() + " bytes");
    }

    /** A micro-batch whose logits would not fit one array cannot run: fit passes over it instead of failing. */
    @Test
    void fitPassesOverMicroBatchesTooLargeToExist() {
        MemoryPlan p = MemoryPlanner.fit(GptConfig.named("gpt2"), 64L << 30, 64, 1024, OptimizerKind.ADAMW, 0, 2,
                true);
        assertTrue(p.microBatch() <= 32, "B·T·V below 2^31: " + p.microBatch());
    }

    /**
     * gpt2-medium (355M parameters) at B = 1, T = 1024 is planned from its shapes: well within a second once
     * compiled, and without allocating its 1.4 GB of weights.
     */
    @Test
    void gpt2MediumIsPlannedQuicklyWithoutItsWeights() {
        GptConfig medium = GptConfig.named("gpt2-medium");
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().threadId();
        long cold = System.nanoTime();
        MemoryPlanner.plan(medium, 1, 8, 1024, OptimizerKind.ADAMW, 0, 2, false); // warm-up
        double first = (System.nanoTime() - cold) / 1e9;
        assertTrue(first < 5, "the first plan took " + first + " s");
        long bytes0 = threads.getThreadAllocatedBytes(id);
        long t0 = System.nanoTime();
        MemoryPlan p = MemoryPlanner.plan(medium, 1, 8, 1024, OptimizerKind.ADAMW, 0, 2, false);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long allocated = threads.getThreadAllocatedBytes(id) - bytes0;
        assertEquals(4 * medium.parameterCount() + 4L * medium.vocab() * medium.width(), p.gradsBytes());
        assertTrue(seconds < 1, "planning took " + seconds + " s");
        assertTrue(allocated < 16L << 20, "planning allocated " + allocated + " bytes");
        System.out.printf("gpt2-medium B=1 T=1024: planned in %.1f ms (first call %.0f ms), %.2f MB allocated%n",
                seconds * 1e3, first * 1e3, allocated / 1048576.0);
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
