package io.accrue.spark;

import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.train.StepListener;
import io.accrue.train.StepMetrics;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The figures of SPARK-NOTES.md (not a test): {@code sync <L> <NH> <C> <T> <V>} prints per-step synchronization
 * overhead in local[2]; {@code tput <file> <workers>} prints tokens/s of {@code small} (0 workers: no Spark).
 */
public final class SparkFigures {
    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        if (args[0].equals("sync")) {
            GptConfig gpt = new GptConfig(Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                    Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]), 0f);
            sync(gpt, args.length > 6 ? Integer.parseInt(args[6]) : 5);
        } else {
            tput(args[1], Integer.parseInt(args[2]));
        }
    }

    /** A byte-level GPT of shape {@code gpt} on {@code file}, seed 1. */
    static SpecRecipe recipe(GptConfig gpt, java.nio.file.Path file) {
        return SpecRecipe.of(io.accrue.run.RunSpec.builder(io.accrue.run.TaskKind.TEXT).shape(gpt).data(file)
                .context(gpt.context()).train(t -> t.seed(1)).out(java.nio.file.Path.of("target", "figures")).build());
    }

    static JavaSparkContext spark() {
        JavaSparkContext s = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("figures")
                .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
                .set("spark.driver.maxResultSize", "0"));
        s.setLogLevel("ERROR");
        return s;
    }

    /** B=1, K=2, 2 workers, sequence T of random bytes; 1 warm-up step, 4 measured. */
    static void sync(GptConfig gpt, int steps) throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("accrue-bytes", ".txt");
        byte[] b = new byte[gpt.context() * 64 + 1];
        new java.util.Random(1).nextBytes(b);
        java.nio.file.Files.write(f, b);
        SpecRecipe recipe = recipe(gpt, f);
        TrainConfig config = TrainConfig.builder().microBatch(1).accumulationSteps(2).maxSteps(steps).lr(1e-4)
                .threads(2).seed(1).build();
        try (JavaSparkContext spark = spark()) {
            Gpt model = (Gpt) (Object) recipe.model();
            SparkGradientSync sync = new SparkGradientSync(spark, recipe, 2, 1);
            List<SparkGradientSync.Timing> timings = new ArrayList<>();
            List<Double> boundary = new ArrayList<>();
            try (Trainer<TokenBatch> t = new Trainer<>(config, model, SparkGradientSyncTest.data(recipe))) {
                t.gradientSync(sync).addListener(new StepListener() {
                    @Override
                    public void onStep(StepMetrics m) {
                        timings.add(sync.lastTiming());
                        boundary.add(m.seconds());
                    }
                });
                t.fit();
            } finally {
                Workers.closeAll();
            }
            for (int i = 1; i < timings.size(); i++) {
                SparkGradientSync.Timing x = timings.get(i);
                System.out.printf("params %,d  step %d  overhead %.1f ms  (broadcast %.1f, job %.1f, max task %.1f, "
                                + "combine %.1f)  step wall %.1f ms%n", model.parameters().size(), i,
                        x.overheadNanos() / 1e6, x.broadcastNanos() / 1e6, x.jobNanos() / 1e6,
                        x.maxTaskNanos() / 1e6, x.combineNanos() / 1e6, boundary.get(i) * 1e3);
            }
        }
    }

    /** small (L6 NH6 C384) at T=256 on a text file, B=4, K=4; 1 warm-up step, 3 measured. */
    static void tput(String file, int workers) {
        GptConfig gpt = GptConfig.named("small").withVocab(256).withContext(256);
        SpecRecipe recipe = recipe(gpt, java.nio.file.Path.of(file));
        TrainConfig config = TrainConfig.builder().microBatch(4).accumulationSteps(4).maxSteps(4).lr(1e-4)
                .threads(workers == 0 ? 1 : 2).seed(1).build();
        JavaSparkContext spark = workers == 0 ? null : spark();
        try {
            Gpt model = (Gpt) (Object) recipe.model();
            List<Double> seconds = new ArrayList<>();
            try (Trainer<TokenBatch> t = new Trainer<>(config, model, SparkGradientSyncTest.data(recipe))) {
                if (spark != null) {
                    t.gradientSync(new SparkGradientSync(spark, recipe, workers, 4));
                }
                t.addListener(new StepListener() {
                    @Override
                    public void onStep(StepMetrics m) {
                        seconds.add(m.seconds());
                    }
                });
                t.fit();
            } finally {
                Workers.closeAll();
            }
            double s = 0;
            for (int i = 1; i < seconds.size(); i++) {
                s += seconds.get(i);
            }
            long tokens = 16L * 256 * (seconds.size() - 1);
            System.out.printf("small %,d params, workers %d: %d steps of 4096 tokens in %.2f s = %.0f tokens/s%n",
                    model.parameters().size(), workers, seconds.size() - 1, s, tokens / s);
        } finally {
            if (spark != null) {
                spark.stop();
            }
        }
    }
}
