package io.accrue.spark;

import io.accrue.cli.ErrorHandlers;
import io.accrue.cli.TrainOptions;
import io.accrue.data.AdditionTask;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.train.Checkpoint;
import io.accrue.train.StepListener;
import io.accrue.train.StepMetrics;
import io.accrue.train.TrainConfig;
import io.accrue.train.TrainResult;
import io.accrue.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code spark-submit --class io.accrue.spark.SparkTrain accrue-spark.jar train [options] --workers N}: the
 * training options of {@code accrue train} (the subset listed by {@code --help}, same names and defaults) with
 * every optimizer step run as one Spark job of N tasks. Writes {@code metrics.jsonl} and the core checkpoint
 * format into {@code --out}; {@code --resume} continues after a driver failure from the last checkpoint.
 */
@Command(name = "train", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = "Train a GPT with exact gradient accumulation, data-parallel on Spark (one job per step).")
public final class SparkTrain implements Callable<Integer> {

    @Option(names = "--workers", paramLabel = "N", defaultValue = "2",
            description = "Spark tasks per optimizer step (the window's micro-batches are split among them).")
    int workers;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master when not set by spark-submit, "
            + "e.g. local[2]. Default: spark.master, else local[N].")
    String master;

    @Option(names = "--model", paramLabel = "NAME", description = "adder, tiny, small, gpt2, gpt2-medium. "
            + "Default: adder, or tiny with --data.")
    String model;

    @Option(names = "--data", paramLabel = "FILE.txt", description = "Byte-level text file, readable at this path "
            + "on every executor.")
    String data;

    @Option(names = "--context", paramLabel = "T", description = "Sequence length for --data.")
    Integer context;

    @Option(names = "--digits", paramLabel = "D", defaultValue = "3")
    int digits;

    @Option(names = "--train-size", paramLabel = "N", defaultValue = "100000")
    int trainSize;

    @Mixin
    TrainOptions training;

    @Option(names = "--dropout", paramLabel = "P", defaultValue = "0")
    float dropout;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
            description = "Driver threads (normalize, clip, optimizer); tasks use spark.task.cpus.")
    int threads;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true,
            description = "Output directory (on the driver) for metrics.jsonl and checkpoint/.")
    Path out;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "0")
    long checkpointEvery;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a run's --out or checkpoint/ "
            + "with the same options (after a driver failure).")
    Path resume;

    @Option(names = "--stop-after", paramLabel = "STEPS", hidden = true)
    Long stopAfter;

    /** {@code SparkTrain train [options]}; exit status 0 on success, 2 on a usage error (one line on stderr). */
    public static void main(String[] args) {
        if (args.length == 0 || !args[0].equals("train")) {
            System.err.println("usage: SparkTrain train [options] --workers N   (see: SparkTrain train --help)");
            System.exit(2);
        }
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        int rc = ErrorHandlers.install(new CommandLine(new SparkTrain())).execute(rest);
        if (rc != 0) {
            System.exit(rc);
        }
    }

    static GptConfig namedModel(String name) {
        return "adder".equalsIgnoreCase(name) ? new GptConfig(2, 4, 128, 16, 12, 0f) : GptConfig.named(name);
    }

    /** The validated training configuration: {@code accrue train}'s options, checks and defaults for a GPT. */
    TrainConfig trainConfig() {
        return training.gptConfig(8, threads);
    }

    GptRecipe recipe() {
        String name = model != null ? model : data != null ? "tiny" : "adder";
        GptConfig shape = namedModel(name);
        if (data == null) {
            AdditionTask t = new AdditionTask(digits, training.seed());
            return GptRecipe.of(shape.withVocab(AdditionTask.VOCABULARY.size()).withContext(t.seq())
                    .withDropout(dropout), training.seed(), digits, trainSize, null);
        }
        int t = context != null ? context : shape.context();
        return GptRecipe.of(shape.withVocab(256).withContext(t).withDropout(dropout), training.seed(), digits,
                trainSize, Path.of(data).toAbsolutePath().toString());
    }

    @Override
    public Integer call() throws IOException {
        TrainConfig config = trainConfig();
        GptRecipe recipe = recipe();
        PrintWriter console = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        Map<String, String> meta = metadata(recipe, config);
        Checkpoint resumeFrom = null;
        if (resume != null) {
            Path dir = Checkpoint.exists(resume) ? resume : resume.resolve("checkpoint");
            resumeFrom = Checkpoint.load(dir);
            if (!recipe.config().toString().equals(resumeFrom.metadata().get("model_config"))) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--resume: checkpoint of model "
                        + resumeFrom.metadata().get("model_config") + ", these options give " + recipe.config());
            }
        }
        SparkConf conf = new SparkConf().setAppName("accrue-train");
        if (!conf.contains("spark.master")) {
            conf.setMaster(master != null ? master : "local[" + workers + "]");
        }
        // A step's task results are whole gradient buffers: allow them beyond the 1 GiB default.
        conf.setIfMissing("spark.driver.maxResultSize", "0");
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            spark.setLogLevel("WARN");
            Gpt gpt = new Gpt(recipe.config(), training.seed());
            Files.createDirectories(out);
            try (Trainer<TokenBatch> trainer = new Trainer<>(config, gpt, recipe.data())) {
                SparkGradientSync sync = new SparkGradientSync(spark, recipe, workers, config.microBatch());
                trainer.gradientSync(sync);
                if (resumeFrom != null) {
                    resumeFrom.restoreWeights(gpt.parameters());
                    resumeFrom.restoreOptimizer(trainer.optimizer());
                    trainer.restore(resumeFrom.state());
                }
                long planned = trainer.plannedSteps();
                console.printf(Locale.ROOT, "accrue spark train: %s, %,d parameters, B=%d K=%d N=%d, %d workers, "
                                + "master %s, %d steps%s%n", recipe.config(), gpt.parameters().size(),
                        config.microBatch(), config.accumulationSteps(), config.effectiveBatch(), workers,
                        spark.master(), planned, resumeFrom != null ? " (resuming at step "
                                + resumeFrom.state().step() + ")" : "");
                Path checkpointDir = out.resolve("checkpoint");
                int seq = recipe.context();
                try (BufferedWriter metrics = Files.newBufferedWriter(out.resolve("metrics.jsonl"),
                        StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        resumeFrom != null ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                    trainer.addListener(new StepListener() {
                        @Override
                        public void onStep(StepMetrics m) {
                            double tps = m.examples() * (double) seq / m.seconds();
                            double syncMs = sync.lastTiming().overheadNanos() / 1e6;
                            console.printf(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e  %,.0f tok/s  sync %.1f ms%n",
                                    m.step() + 1, planned, m.loss(), m.lr(), tps, syncMs);
                            try {
                                metrics.write(String.format(Locale.ROOT, "{\"step\": %d, \"loss\": %s, \"lr\": %s, "
                                                + "\"grad_norm\": %s, \"tokens_per_second\": %.1f, \"sync_ms\": %.3f, "
                                                + "\"workers\": %d, \"skipped\": %b}", m.step() + 1, m.loss(), m.lr(),
                                        m.gradNorm(), tps, syncMs, workers, m.skipped()));
                                metrics.newLine();
                                metrics.flush();
                                long done = m.step() + 1;
                                if (checkpointEvery > 0 && done % checkpointEvery == 0 && done < planned) {
                                    Checkpoint.save(checkpointDir, gpt.parameters(), trainer.optimizer(),
                                            trainer.state(), meta);
                                }
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                            if (stopAfter != null && done(m) >= stopAfter) {
                                trainer.stop();
                            }
                        }
                    });
                    TrainResult result = trainer.fit();
                    Checkpoint.save(checkpointDir, gpt.parameters(), trainer.optimizer(), trainer.state(), meta);
                    console.printf(Locale.ROOT, "%s after %d steps in %.1f s: final window loss %.4f; checkpoint %s%n",
                            trainer.state().step() >= planned ? "done" : "stopped", trainer.state().step(),
                            result.seconds(), result.finalLoss(), checkpointDir);
                }
            } finally {
                Workers.closeAll();
            }
        }
        return 0;
    }

    private static long done(StepMetrics m) {
        return m.step() + 1;
    }

    /** The checkpoint metadata keys of {@code accrue train}, so either launcher can read the other's checkpoints. */
    private Map<String, String> metadata(GptRecipe recipe, TrainConfig config) {
        Map<String, String> m = new LinkedHashMap<>();
        if (data == null) {
            m.put("task", "addition");
            m.put("digits", Integer.toString(digits));
            m.put("train_size", Integer.toString(trainSize));
            m.put("task_seed", Long.toString(training.seed()));
        } else {
            m.put("task", "bytes");
            m.put("data", data);
            m.put("context", Integer.toString(recipe.context()));
        }
        m.put("model", model != null ? model : data != null ? "tiny" : "adder");
        m.put("model_config", recipe.config().toString());
        m.put("train_config", config.toString());
        m.put("workers", Integer.toString(workers));
        return m;
    }
}
