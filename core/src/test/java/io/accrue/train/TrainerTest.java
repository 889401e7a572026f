package io.accrue.train;

import io.accrue.autograd.Loss;
import io.accrue.autograd.Tape;
import io.accrue.data.FeatureDataset;
import io.accrue.data.SequenceDataset;
import io.accrue.data.Window;
import io.accrue.models.FeatureBatch;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Mlp;
import io.accrue.models.MlpConfig;
import io.accrue.nn.NormKind;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.ParameterStore;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    private static Mlp mlp(NormKind norm) {
        return new Mlp(new MlpConfig(12, List.of(32), 4, norm, 4, 0f, 5));
    }

    private static TrainConfig.Builder base() {
        return TrainConfig.builder().seed(3).lr(1e-2).threads(1).schedule(ScheduleKind.CONSTANT)
                .clipNorm(Double.POSITIVE_INFINITY).weightDecay(0);
    }

    /** Records every step's metrics. */
    private static final class Recorder implements StepListener {
        final List<StepMetrics> steps = new ArrayList<>();

        @Override
        public void onStep(StepMetrics m) {
            steps.add(m);
        }
    }

    @Test
    void concurrentMicroBatchesLeftToAccrueMustBeChosenBeforeTheTrainer() {
        TrainConfig c = base().microBatch(2).accumulationSteps(2).threads(2)
                .concurrentMicroBatches(TrainConfig.AUTO_CONCURRENT).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Trainer<>(c, mlp(NormKind.LAYER), Fixtures.features(16, 12, 4, 1)));
        assertTrue(e.getMessage().contains("MicroBatchLanes.choose"), e.getMessage());
    }

    @Test
    void lastPartialWindowIsSteppedAndNormalizedByItsTrueSize() {
        FeatureDataset data = Fixtures.features(37, 12, 4, 1);
        Mlp accumulated = mlp(NormKind.LAYER);
        Mlp oneBatch = mlp(NormKind.LAYER);
        Recorder rec = new Recorder();
        try (Trainer<FeatureBatch> a = new Trainer<>(base().microBatch(2).effectiveBatch(8).epochs(1).build(),
                accumulated, data).addListener(rec);
             Trainer<FeatureBatch> b = new Trainer<>(base().microBatch(8).accumulationSteps(1).epochs(1).build(),
                     oneBatch, data)) {
            TrainResult r = a.fit();
            b.fit();
            assertEquals(5, r.steps());
            assertEquals(37, r.examples());
            assertEquals(List.of(8, 8, 8, 8, 5), rec.steps.stream().map(StepMetrics::examples).toList());
            assertEquals(5, rec.steps.getLast().count(), "last window normalized by its 5 examples");
            assertEquals(3, rec.steps.getLast().accumulation(), "5 examples at B=2 are 3 micro-batches");
            Fixtures.assertBitIdentical("B=2,K=4 vs B=8,K=1 over 37 examples", oneBatch.parameters(), b.optimizer(),
                    accumulated.parameters(), a.optimizer());
        }
    }

    @Test
    void naiveMeanPerMicroBatchDividedByKGivesADifferentGradientOnPaddedData() {
        GptConfig cfg = GptConfig.named("tiny").withContext(16);
        SequenceDataset data = Fixtures.sequences(8, 16, cfg.vocab(), 2, 21);
        int[] all = {0, 1, 2, 3, 4, 5, 6, 7};
        float[] exact = gradient(cfg, data, all, 1, false);
        float[] exactSplit = gradient(cfg, data, all, 4, false);
        float[] naive = gradient(cfg, data, all, 4, true);
        assertArrayEquals(exact, exactSplit, "sum-then-normalize-once is split invariant");
        double err = Fixtures.relativeL2(naive, exact);
        assertTrue(err > 0.01, "naive normalization should be visibly wrong on padded data, rel L2 = " + err);
    }

    /** The first-step gradient over `indices` cut into `b`-sized micro-batches, exact or naive normalization. */
    private static float[] gradient(GptConfig cfg, SequenceDataset data, int[] indices, int b, boolean naive) {
        Gpt model = new Gpt(cfg, 4);
        ParameterStore store = model.parameters();
        try (Compute compute = new Compute(1)) {
            Tape tape = new Tape(compute, new Arena());
            List<int[]> micro = new Window(0, 0, indices).microBatches(b);
            float[] naiveSum = new float[store.grads().length];
            long total = 0;
            for (int[] mb : micro) {
                Loss loss = model.loss(tape, data.batch(mb));
                tape.backward();
                tape.reset();
                total += loss.count();
                if (naive) {
                    float[] g = store.grads();
                    for (int i = 0; i < g.length; i++) {
                        naiveSum[i] += g[i] / loss.count() / micro.size();
                    }
                    store.zeroGrad();
                }
            }
            store.foldTiedGradients();
            float[] g = naive ? naiveSum : store.grads();
            if (naive) {
                ParameterStore fold = store;
                System.arraycopy(naiveSum, 0, fold.grads(), 0, naiveSum.length);
                fold.foldTiedGradients();
                g = fold.grads();
            } else {
                for (int i = 0; i < g.length; i++) {
                    g[i] /= total;
                }
            }
            return Arrays.copyOf(g, store.size());
        }
    }

    @Test
    void accumulationScheduleChangesKAndCountsSteps() {
        FeatureDataset data = Fixtures.features(40, 12, 4, 2);
        Recorder rec = new Recorder();
        TrainConfig cfg = base().microBatch(4).accumulationSteps(1).epochs(1)
                .accumulationSchedule(AccumulationSchedule.byStep(Map.of(2L, 4))).build();
        try (Trainer<FeatureBatch> t = new Trainer<>(cfg, mlp(NormKind.GROUP), data).addListener(rec)) {
            assertEquals(4, t.plannedSteps());
            TrainResult r = t.fit();
            assertEquals(4, r.steps());
            assertEquals(List.of(1, 1, 4, 4), rec.steps.stream().map(StepMetrics::accumulation).toList());
            assertEquals(List.of(4, 4, 16, 16), rec.steps.stream().map(StepMetrics::examples).toList());
            assertEquals(40, r.examples());
        }
        TrainConfig byEpoch = base().microBatch(4).accumulationSteps(1).epochs(2)
                .accumulationSchedule(AccumulationSchedule.byEpoch(Map.of(1L, 5))).build();
        try (Trainer<FeatureBatch> t = new Trainer<>(byEpoch, mlp(NormKind.GROUP), data)) {
            assertEquals(10 + 2, t.fit().steps(), "10 windows of 4 in epoch 0, 2 windows of 20 in epoch 1");
        }
    }

    @Test
    void batchNormBreaksEquivalenceAndWarns() {
        FeatureDataset data = Fixtures.features(64, 12, 4, 4);
        Mlp big = mlp(NormKind.BATCH);
        Mlp small = mlp(NormKind.BATCH);
        try (Trainer<FeatureBatch> a = new Trainer<>(base().microBatch(32).accumulationSteps(1).maxSteps(2).build(), big, data);
             Trainer<FeatureBatch> b = new Trainer<>(base().microBatch(8).accumulationSteps(4).maxSteps(2).build(),
                     small, data)) {
            assertTrue(a.fit().warnings().isEmpty(), "no warning without accumulation");
            TrainResult r = b.fit();
            assertEquals(1, r.warnings().size());
            assertTrue(r.warnings().getFirst().contains("BatchNorm"), r.warnings().getFirst());
            double diff = Fixtures.relativeL2(small.parameters().values(), big.parameters().values());
            assertTrue(diff > 1e-6, "BatchNorm statistics per micro-batch must change the weights, rel L2 " + diff);
        }
    }

    @Test
    void concurrentMicroBatchesAreCheckedAgainstThreadsAndModel() {
        var tooMany = assertThrows(IllegalArgumentException.class,
                () -> base().threads(2).concurrentMicroBatches(3).build());
        assertEquals("concurrentMicroBatches must be in [1, threads = 2], got 3; each runs on a thread of its own",
                tooMany.getMessage());
        FeatureDataset data = Fixtures.features(64, 12, 4, 4);
        var batchNorm = assertThrows(IllegalArgumentException.class, () -> new Trainer<>(
                base().threads(2).concurrentMicroBatches(2).microBatch(8).accumulationSteps(4).build(),
                mlp(NormKind.BATCH), data));
        assertTrue(batchNorm.getMessage().contains("needs a model without BatchNorm"), batchNorm.getMessage());
    }

    /** Each concurrent micro-batch has its own arena, as planned: the sum of their high-water marks. */
    @Test
    void concurrentMicroBatchesUseThePlannedArenas() {
        GptConfig cfg = GptConfig.named("tiny").withContext(16);
        SequenceDataset data = Fixtures.sequences(24, 16, cfg.vocab(), 17, 2);
        for (int concurrent : new int[] {1, 2, 3}) {
            long planned = MemoryPlanner.plan(cfg, 2, 4, 16, OptimizerKind.ADAMW, 0, 3, false, concurrent)
                    .activationBytes();
            try (Trainer<io.accrue.models.TokenBatch> t = new Trainer<>(base().threads(3)
                    .concurrentMicroBatches(concurrent).microBatch(2).accumulationSteps(4).maxSteps(2).build(),
                    new Gpt(cfg, 1), data, planned / 4)) {
                t.fit();
                assertEquals(planned, t.memoryUsage().arenaHighWaterBytes(), "concurrent=" + concurrent);
            }
        }
    }

    /** A micro-batch that fails ends the window with its own error, not a hang of the lanes waiting for it. */
    @Test
    void aFailingConcurrentMicroBatchReportsItsErrorInsteadOfHanging() {
        GptConfig cfg = GptConfig.named("tiny").withContext(16);
        SequenceDataset data = Fixtures.sequences(24, 16, cfg.vocab(), 17, 2);
        Gpt gpt = new Gpt(cfg, 1);
        int[] calls = {0};
        StepListener failing = new StepListener() {
            @Override
            public void onStep(StepMetrics m) {
            }

            @Override
            public void onMicroBatch(long step, int microBatch, int microBatches) {
                if (microBatch == 1) {
                    calls[0]++;
                    throw new IllegalStateException("listener failed on micro-batch 1");
                }
            }
        };
        try (Trainer<io.accrue.models.TokenBatch> t = new Trainer<>(base().threads(2).concurrentMicroBatches(2)
                .microBatch(2).accumulationSteps(4).maxSteps(1).build(), gpt, data)) {
            t.addListener(failing);
            var e = assertThrows(IllegalStateException.class, t::fit);
            assertEquals("listener failed on micro-batch 1", e.getMessage());
            assertEquals(1, calls[0]);
        }
    }

    @Test
    void nonFiniteWindowIsSkippedWithoutTouchingWeightsOrOptimizerState() {
        FeatureDataset clean = Fixtures.features(32, 12, 4, 6);
        float[] x = new float[32 * 12];
        int[] y = new int[32];
        for (int i = 0; i < 32; i++) {
            FeatureBatch one = clean.batch(new int[] {i});
            System.arraycopy(one.features(), 0, x, i * 12, 12);
            y[i] = one.labels()[0];
        }
        x[10 * 12 + 3] = Float.NaN;  // example 10 sits in window 1 (examples 8..15)
        FeatureDataset data = new FeatureDataset(x, y, 12);
        Mlp model = mlp(NormKind.LAYER);
        List<float[]> weights = new ArrayList<>();
        List<List<float[]>> states = new ArrayList<>();
        TrainConfig cfg = base().microBatch(4).accumulationSteps(2).epochs(1).shuffle(false).build();
        try (Trainer<FeatureBatch> t = new Trainer<>(cfg, model, data)) {
            t.addListener(m -> {
                weights.add(model.parameters().values().clone());
                states.add(t.optimizer().state().stream().map(float[]::clone).toList());
            });
            TrainResult r = t.fit();
            assertEquals(1, r.skippedWindows());
            assertEquals(3, r.steps());
            assertEquals(4, r.windows());
            assertArrayEquals(weights.get(0), weights.get(1), "weights untouched by the skipped window");
            for (int s = 0; s < states.get(0).size(); s++) {
                assertArrayEquals(states.get(0).get(s), states.get(1).get(s), "optimizer state untouched");
            }
            assertFalse(Arrays.equals(weights.get(1), weights.get(2)), "training continues after the skip");
            assertTrue(Double.isFinite(r.finalLoss()));
            for (float v : model.parameters().values()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void badConfigurationsNameTheFieldAndValue() {
        assertMessage(() -> TrainConfig.builder().accumulationSteps(0), "accumulationSteps", "0");
        assertMessage(() -> TrainConfig.builder().microBatch(0).build(), "microBatch", "0");
        assertMessage(() -> TrainConfig.builder().microBatch(8).effectiveBatch(60).build(), "effectiveBatch 60",
                "56 or 64");
        assertMessage(() -> TrainConfig.builder().lr(0).build(), "lr", "0.0");
        assertMessage(() -> TrainConfig.builder().lr(-1).build(), "lr", "-1.0");
        assertMessage(() -> TrainConfig.builder().lr(Double.NaN).build(), "lr", "NaN");
        assertMessage(() -> TrainConfig.builder().clipNorm(0).build(), "clipNorm", "0.0");
        assertMessage(() -> TrainConfig.builder().clipNorm(-2).build(), "clipNorm", "-2.0");
        assertMessage(() -> TrainConfig.builder().microBatch(8).accumulationSteps(2).effectiveBatch(24).build(),
                "effectiveBatch 24", "16");
        FeatureDataset data = Fixtures.features(5, 12, 4, 1);
        assertMessage(() -> new Trainer<>(base().microBatch(6).accumulationSteps(1).build(), mlp(NormKind.NONE), data), "microBatch 6",
                "5 examples");
    }

    private static void assertMessage(Runnable r, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }
}
