package io.accrue.train;

import io.accrue.data.Dataset;
import io.accrue.models.FeatureBatch;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Mlp;
import io.accrue.models.MlpConfig;
import io.accrue.models.Model;
import io.accrue.models.TokenBatch;
import io.accrue.nn.NormKind;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.List;
import java.util.function.Supplier;

/**
 * The product's proof: K micro-batches of B give the same bits as one batch of K·B, for every split and
 * thread count — weights and optimizer state after several optimizer steps.
 */
class EquivalenceTest {
    private static final int[][] SPLITS = {{32, 1}, {8, 4}, {4, 8}, {1, 32}};
    private static final int STEPS = 5;

    /**
     * Threads, and micro-batches run at once: every split also runs with its micro-batches on 2 and 3 lanes (K = 8
     * on 3 lanes gives them 3, 3 and 2), whose backward steps must keep micro-batch order.
     */
    private static final int[][] TEAMS = {{1, 1}, {2, 1}, {2, 2}, {3, 3}};

    private static TrainConfig config(OptimizerKind opt, int b, int k, int threads, int concurrent) {
        TrainConfig.Builder c = TrainConfig.builder().microBatch(b).accumulationSteps(k).maxSteps(STEPS).threads(threads)
                .concurrentMicroBatches(concurrent).optimizer(opt).seed(42).weightDecay(0.1).clipNorm(1.0).schedule(ScheduleKind.COSINE, 2, 1e-4);
        return opt == OptimizerKind.SGD ? c.lr(0.05).momentum(0.9).build() : c.lr(3e-3).betas(0.9, 0.95).build();
    }

    private static <I> void assertAllSplitsIdentical(OptimizerKind opt, Supplier<Model<I>> models, Dataset<I> data) {
        Model<I> reference = null;
        Trainer<I> referenceTrainer = null;
        double referenceLoss = Double.NaN;
        for (int[] team : TEAMS) {
            int threads = team[0];
            for (int[] split : SPLITS) {
                Model<I> model = models.get();
                Trainer<I> trainer = new Trainer<>(config(opt, split[0], split[1], threads, team[1]), model, data);
                double loss;
                try (trainer) {
                    TrainResult r = trainer.fit();
                    loss = r.finalLoss();
                    if (r.steps() != STEPS || r.skippedWindows() != 0) {
                        throw new AssertionError("expected " + STEPS + " clean steps, got " + r);
                    }
                }
                if (reference == null) {
                    reference = model;
                    referenceTrainer = trainer;
                    referenceLoss = loss;
                } else {
                    if (Double.doubleToLongBits(loss) != Double.doubleToLongBits(referenceLoss)) {
                        throw new AssertionError("last window's loss " + loss + " at B=" + split[0] + ",K=" + split[1]
                                + ",threads=" + threads + ",concurrent=" + team[1] + " vs " + referenceLoss);
                    }
                    Fixtures.assertBitIdentical("B=" + split[0] + ",K=" + split[1] + ",threads=" + threads
                                    + ",concurrent=" + team[1] + " vs B=32,K=1,threads=1", reference.parameters(), referenceTrainer.optimizer(),
                            model.parameters(), trainer.optimizer());
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(OptimizerKind.class)
    void mlpWithNormsAndDropoutIsBitExactAcrossSplitsAndThreads(OptimizerKind opt) {
        Dataset<FeatureBatch> data = Fixtures.features(STEPS * 32, 24, 5, 3);
        for (NormKind norm : List.of(NormKind.LAYER, NormKind.GROUP, NormKind.RMS)) {
            assertAllSplitsIdentical(opt,
                    () -> new Mlp(new MlpConfig(24, List.of(64, 48), 5, norm, 4, 0.2f, 7)), data);
        }
    }

    @ParameterizedTest
    @EnumSource(OptimizerKind.class)
    void tinyGptIsBitExactAcrossSplitsAndThreads(OptimizerKind opt) {
        GptConfig tiny = GptConfig.named("tiny").withContext(16).withDropout(0.1f);
        Dataset<TokenBatch> data = Fixtures.sequences(STEPS * 32, 16, tiny.vocab(), 17, 5);
        assertAllSplitsIdentical(opt, () -> new Gpt(tiny, 11), data);
    }

    @ParameterizedTest
    @EnumSource(OptimizerKind.class)
    void paddedVariableLengthSequencesAreBitExactAcrossSplits(OptimizerKind opt) {
        GptConfig tiny = GptConfig.named("tiny").withContext(16);
        Dataset<TokenBatch> data = Fixtures.sequences(STEPS * 32, 16, tiny.vocab(), 2, 9);
        assertAllSplitsIdentical(opt, () -> new Gpt(tiny, 11), data);
    }
}
