package io.accrue.spark;

import io.accrue.data.Dataset;
import io.accrue.models.Gpt;
import io.accrue.run.RunSpec;
import io.accrue.run.TaskKind;
import java.nio.file.Path;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spark data-parallel steps against single-process training over the same windows, in {@code local[2,2]} (two
 * executor threads; a failed task may be retried once).
 */
class SparkGradientSyncTest {
    /** Stated tolerance of W &gt; 1 workers against one process: fp32 rounding of the split chains. */
    static final double TOLERANCE = 1e-5;

    static final SpecRecipe RECIPE = SpecRecipe.of(RunSpec.builder(TaskKind.ADDITION)
            .shape(new GptConfig(2, 2, 32, 12, 12, 0f)).digits(2).trainSize(256).train(t -> t.seed(7))
            .out(Path.of("target", "spark-test")).build());

    /** The recipe's training data, typed. */
    @SuppressWarnings("unchecked")
    static Dataset<TokenBatch> data(SpecRecipe recipe) {
        return (Dataset<TokenBatch>) (Dataset<?>) recipe.data();
    }
    static final int STEPS = 3;

    static JavaSparkContext spark;

    @BeforeAll
    static void start() {
        spark = new JavaSparkContext(new SparkConf().setMaster("local[2,2]").setAppName("accrue-test")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1"));
        spark.setLogLevel("ERROR");
    }

    @AfterAll
    static void stop() {
        Workers.closeAll();
        spark.stop();
    }

    static TrainConfig config() {
        return TrainConfig.builder().microBatch(4).accumulationSteps(4).maxSteps(STEPS).lr(1e-2).weightDecay(0.01)
                .clipNorm(1.0).seed(7).threads(1).build();
    }

    /** Weights after {@link #STEPS} steps; {@code sync} null: the single-process trainer. */
    static float[] train(SparkGradientSync sync, double[] lastLoss) {
        Gpt model = (Gpt) (Object) RECIPE.model();
        try (Trainer<TokenBatch> t = new Trainer<>(config(), model, data(RECIPE))) {
            if (sync != null) {
                t.gradientSync(sync);
            }
            var r = t.fit();
            assertEquals(STEPS, r.steps());
            lastLoss[0] = r.finalLoss();
            return model.parameters().values().clone();
        }
    }

    static SparkGradientSync sync(int workers) {
        return new SparkGradientSync(spark, RECIPE, workers, config().microBatch());
    }

    static double relL2(float[] a, float[] b) {
        double d = 0;
        double n = 0;
        for (int i = 0; i < a.length; i++) {
            d += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            n += (double) b[i] * b[i];
        }
        return Math.sqrt(d / n);
    }

    @Test
    void oneWorkerIsBitIdenticalToSingleProcess() {
        double[] l1 = new double[1];
        double[] l2 = new double[1];
        float[] single = train(null, l1);
        float[] spark1 = train(sync(1), l2);
        assertArrayEquals(single, spark1, "1 Spark worker must give the single-process bits");
        assertEquals(l1[0], l2[0]);
    }

    @Test
    void twoWorkersMatchSingleProcessWithinToleranceAndRepeatBitForBit() {
        double[] l = new double[3];
        float[] single = train(null, new double[1]);
        float[] a = train(sync(2), l);
        float[] b = train(sync(2), new double[1]);
        float[] four = train(sync(4), new double[1]);
        double rel2 = relL2(a, single);
        double rel4 = relL2(four, single);
        System.out.printf("rel L2 vs single process after %d steps: 2 workers %.3e, 4 workers %.3e%n", STEPS, rel2,
                rel4);
        assertTrue(rel2 < TOLERANCE, "2 workers: rel L2 " + rel2);
        assertTrue(rel4 < TOLERANCE, "4 workers: rel L2 " + rel4);
        System.out.println("2 workers bit-identical to single process: " + java.util.Arrays.equals(a, single));
        assertArrayEquals(a, b, "two runs with 2 workers must give the same bits");
    }

    @Test
    void retriedTaskGivesTheSameBits() {
        float[] clean = train(sync(2), new double[1]);
        float[] retried = train(sync(2).failFirstAttempt(true), new double[1]);
        assertArrayEquals(clean, retried, "a step whose task failed once and was retried must give the same bits");
    }
}
