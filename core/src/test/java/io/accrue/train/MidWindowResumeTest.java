package io.accrue.train;

import io.accrue.data.Dataset;
import io.accrue.data.FeatureDataset;
import io.accrue.data.SequenceDataset;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Mlp;
import io.accrue.models.MlpConfig;
import io.accrue.models.Model;
import io.accrue.nn.NormKind;
import io.accrue.optim.Optimizer;
import io.accrue.tensor.ParameterStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A run stopped between any two micro-batches — inside a window — and resumed from a checkpoint on disk ends with
 * the same bits as one never stopped: the checkpoint holds the window's gradient sums, loss sum, count and position,
 * and the resumed trainer continues the same chains (law 3). For 1 and 2 threads, concurrent micro-batches,
 * activation checkpointing, dropout keyed by the epoch across epoch boundaries and a partial last window, BatchNorm's
 * running statistics, a pause that checkpoints and goes on, and a new micro-batch size that divides the done
 * examples.
 */
class MidWindowResumeTest {
    /** 36 sequences at N = 8: four full windows and a partial one of 4 per epoch; 7 steps cross into epoch 2. */
    private static final SequenceDataset TEXT = Fixtures.sequences(36, 8, 11, 3, 21);
    private static final GptConfig GPT = new GptConfig(2, 2, 16, 8, 11, 0.1f);
    private static final int STEPS = 7;

    @TempDir
    Path tmp;

    private static TrainConfig config(int b, int threads, int concurrent) {
        return TrainConfig.builder().microBatch(b).effectiveBatch(8).maxSteps(STEPS).threads(threads)
                .concurrentMicroBatches(concurrent).seed(5).lr(1e-2).warmupSteps(2).build();
    }

    /** One finished trainer's weights and optimizer state, and its steps' losses by step. */
    private record Outcome(ParameterStore store, Optimizer optimizer, Map<Long, Double> losses) {
    }

    /** Stops a trainer after its {@code at}-th micro-batch; asks for a pause after the {@code pauseAt}-th. */
    private static final class Interrupt implements StepListener {
        private final Trainer<?> trainer;
        private final int at;
        private final int pauseAt;
        private final Map<Long, Double> losses;
        private final Path pauseDir;
        private int seen;

        Interrupt(Trainer<?> trainer, int at, int pauseAt, Path pauseDir, Map<Long, Double> losses) {
            this.trainer = trainer;
            this.at = at;
            this.pauseAt = pauseAt;
            this.pauseDir = pauseDir;
            this.losses = losses;
        }

        @Override
        public void onMicroBatch(long step, int micro, int k) {
            seen++;
            if (seen == pauseAt) {
                trainer.pause();
            }
            if (seen == at) {
                trainer.stop();
            }
        }

        @Override
        public void onPause(TrainerState state) {
            assertTrue(state.windowOpen(), "paused inside a window: " + state);
            save(pauseDir, trainer);
        }

        @Override
        public void onStep(StepMetrics m) {
            losses.put(m.step(), m.loss());
        }
    }

    private static void save(Path dir, Trainer<?> t) {
        try {
            Checkpoint.save(dir, t.model().parameters(), t.optimizer(), t.state(), Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Trains to the end from the checkpoint in {@code from} (or from scratch when null), stopping after
     * {@code stopAfter} micro-batches (0: never) and checkpointing there into {@code to}.
     */
    private static <I> Outcome segment(TrainConfig config, Supplier<Model<I>> model, Dataset<I> data, Path from,
                                       int stopAfter, Path to, int pauseAt, Path pauseDir, Map<Long, Double> losses) {
        Trainer<I> t = new Trainer<>(config, model.get(), data);
        try (t) {
            if (from != null) {
                Checkpoint cp = Checkpoint.load(from);
                cp.restoreWeights(t.model().parameters());
                cp.restoreOptimizer(t.optimizer(), t.model().parameters());
                cp.restoreGradients(t.model().parameters());
                t.restore(cp.state());
            }
            t.addListener(new Interrupt(t, stopAfter, pauseAt, pauseDir, losses));
            t.fit();
            if (stopAfter > 0) {
                save(to, t);
            }
            return new Outcome(t.model().parameters(), t.optimizer(), losses);
        }
    }

    private static <I> Outcome whole(TrainConfig config, Supplier<Model<I>> model, Dataset<I> data) {
        return segment(config, model, data, null, 0, null, 0, null, new TreeMap<>());
    }

    private static void assertSame(String what, Outcome expected, Outcome actual) {
        Fixtures.assertBitIdentical(what, expected.store(), expected.optimizer(), actual.store(), actual.optimizer());
        for (Map.Entry<Long, Double> e : actual.losses().entrySet()) {
            assertEquals(Double.doubleToRawLongBits(expected.losses().get(e.getKey())),
                    Double.doubleToRawLongBits(e.getValue()), what + ": loss of step " + e.getKey());
        }
    }

    /**
     * Stops after micro-batches 3, 8 (a window's end), 13, 17 (in the partial last window of epoch 0) and 22 in turn, each time resuming a new trainer from
     * the checkpoint the last one wrote; and resumes a pause's checkpoint, taken while the first segment went on.
     */
    private void stoppedAndResumedEqualsUninterrupted(String what, int threads, int concurrent,
                                                      boolean checkpointing) {
        TrainConfig config = config(2, threads, concurrent);
        Supplier<Model<io.accrue.models.TokenBatch>> gpt = () -> new Gpt(GPT, 9).checkpointActivations(checkpointing);
        Outcome expected = whole(config, gpt, TEXT);
        Map<Long, Double> losses = new TreeMap<>();
        Path dir = tmp.resolve(what);
        Path paused = tmp.resolve(what + "-paused");
        int done = 0;
        Path from = null;
        for (int stop : new int[] {3, 8, 13, 17, 22}) {
            segment(config, gpt, TEXT, from, stop - done, dir, from == null ? 1 : 0, paused, losses);
            TrainerState s = Checkpoint.load(dir).state();
            if (concurrent == 1) { // concurrent micro-batches stop after those already started, perhaps one more
                assertEquals(stop == 3 || stop == 13 || stop == 17, s.windowOpen(), what + " after " + stop + ": " + s);
            }
            done = stop;
            from = dir;
        }
        assertSame(what + ", stopped 5 times", expected, segment(config, gpt, TEXT, from, 0, null, 0, null, losses));
        assertTrue(losses.keySet().containsAll(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L)), losses.toString());
        assertSame(what + ", resumed from a pause", expected,
                segment(config, gpt, TEXT, paused, 0, null, 0, null, new TreeMap<>()));
    }

    @Test
    void oneThread() {
        stoppedAndResumedEqualsUninterrupted("1 thread", 1, 1, false);
    }

    @Test
    void twoThreads() {
        stoppedAndResumedEqualsUninterrupted("2 threads", 2, 1, false);
    }

    @Test
    void twoConcurrentMicroBatches() {
        stoppedAndResumedEqualsUninterrupted("2 concurrent micro-batches", 2, 2, false);
    }

    @Test
    void activationCheckpointing() {
        stoppedAndResumedEqualsUninterrupted("activation checkpointing", 2, 1, true);
        stoppedAndResumedEqualsUninterrupted("activation checkpointing, 2 concurrent", 2, 2, true);
    }

    @Test
    void theDoneExamplesMayBeCutIntoAnotherMicroBatchSize() {
        Supplier<Model<io.accrue.models.TokenBatch>> gpt = () -> new Gpt(GPT, 9);
        Outcome expected = whole(config(2, 1, 1), gpt, TEXT);
        Path dir = tmp.resolve("b2");
        segment(config(2, 1, 1), gpt, TEXT, null, 6, dir, 0, null, new TreeMap<>()); // step 1, 4 examples done
        assertEquals(4, Checkpoint.load(dir).state().windowExamples());
        assertSame("B 2 → 4 inside a window", expected,
                segment(config(4, 1, 1), gpt, TEXT, dir, 0, null, 0, null, new TreeMap<>()));
        assertSame("B 2 → 1 inside a window", expected,
                segment(config(1, 2, 2), gpt, TEXT, dir, 0, null, 0, null, new TreeMap<>()));

        segment(config(2, 1, 1), gpt, TEXT, null, 5, dir, 0, null, new TreeMap<>()); // 2 examples done
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> segment(config(4, 1, 1), gpt, TEXT, dir, 0, null, 0, null, new TreeMap<>()));
        assertTrue(e.getMessage().contains("after 2 examples with micro-batches of 4"), e.getMessage());
    }

    @Test
    void batchNormResumesBitExactlyWithItsRunningStatistics() {
        FeatureDataset data = Fixtures.features(30, 12, 4, 1);
        Supplier<Model<io.accrue.models.FeatureBatch>> mlp =
                () -> new Mlp(new MlpConfig(12, List.of(16), 4, NormKind.BATCH, 1, 0.1f, 3));
        TrainConfig config = TrainConfig.builder().microBatch(4).effectiveBatch(8).maxSteps(6).threads(1).seed(2)
                .build();
        Outcome expected = whole(config, mlp, data);
        Path dir = tmp.resolve("bn");
        segment(config, mlp, data, null, 5, dir, 0, null, new TreeMap<>());
        assertTrue(Checkpoint.load(dir).state().windowOpen());
        Outcome resumed = segment(config, mlp, data, dir, 0, null, 0, null, new TreeMap<>());
        assertSame("batch norm", expected, resumed);
        for (String name : expected.store().buffers().keySet()) {
            float[] a = expected.store().buffers().get(name);
            float[] b = resumed.store().buffers().get(name);
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), name + "[" + i + "]");
            }
        }
    }
}
