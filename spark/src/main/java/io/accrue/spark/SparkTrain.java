package io.accrue.spark;

import io.accrue.run.Run;
import io.accrue.run.RunListener;
import io.accrue.run.RunSpec;
import io.accrue.run.StepReport;
import io.accrue.train.Checkpoint;
import io.accrue.train.CheckpointException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code spark-submit --class io.accrue.spark.SparkTrain accrue-spark.jar train --spec RUN.json --workers N}: the run
 * that {@code accrue train --print-spec [options]} describes (or a checkpoint's, with {@code --resume}), executed by
 * the core's {@link Run} with every optimizer step's micro-batches run as one Spark job of N tasks
 * ({@link SparkGradientSync}). Writes the same run directory as {@code accrue train}: {@code metrics.jsonl} (plus
 * {@code sync_ms}), {@code results.json} (plus {@code workers}) and {@code checkpoint/}.
 */
@Command(name = "train", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = "Train with exact gradient accumulation, data-parallel on Spark (one job per step).")
public final class SparkTrain implements Callable<Integer> {
    /** Exit code of bad input, as for {@code accrue}. */
    static final int USAGE = 2;

    @Option(names = "--spec", paramLabel = "RUN.json", description = "The run's description, as 'accrue train "
            + "--print-spec [options]' writes it (its data readable at the same path on every executor).")
    Path spec;

    @Option(names = "--workers", paramLabel = "N", defaultValue = "2",
            description = "Spark tasks per optimizer step (the window's micro-batches are split among them).")
    int workers;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master when not set by spark-submit, "
            + "e.g. local[2]. Default: spark.master, else local[N].")
    String master;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Run directory (on the driver). Default: "
            + "the spec's, or the resumed run's.")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a run's directory or its "
            + "checkpoint/ (after a driver failure); without --spec, the run the checkpoint describes.")
    Path resume;

    @Option(names = "--stop-after", paramLabel = "STEPS", hidden = true,
            description = "Stop after this step, as if interrupted (tests).")
    Long stopAfter;

    /** {@code SparkTrain train [options]}; exit status 0 on success, 2 on bad input (one line on stderr). */
    public static void main(String[] args) {
        if (args.length == 0 || !args[0].equals("train")) {
            System.err.println("usage: SparkTrain train --spec RUN.json [options]   (see: SparkTrain train --help)");
            System.exit(USAGE);
        }
        int rc = commandLine().execute(Arrays.copyOfRange(args, 1, args.length));
        if (rc != 0) {
            System.exit(rc);
        }
    }

    /** The command with one-line error reports: exit 2 for bad input, 1 for an internal failure. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SparkTrain());
        cl.setParameterExceptionHandler((ex, args) -> {
            System.err.println("accrue-spark: " + ex.getMessage() + " (see 'SparkTrain train --help')");
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            boolean usage = ex instanceof IllegalArgumentException || ex instanceof CheckpointException;
            System.err.println("accrue-spark: " + (usage ? "" : "internal error: ") + ex.getMessage());
            return usage ? USAGE : 1;
        });
        return cl;
    }

    /** The run's description: the spec file, else the resumed checkpoint's; the output from --out or the resume. */
    RunSpec runSpec(Checkpoint checkpoint) {
        if (spec == null && checkpoint == null) {
            throw new IllegalArgumentException("give --spec RUN.json (write one with 'accrue train --print-spec "
                    + "[options]') or --resume DIR");
        }
        RunSpec s;
        if (spec != null) {
            try {
                s = RunSpec.fromJson(Files.readString(spec));
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("--spec " + spec + ": no such file; write one with 'accrue train "
                        + "--print-spec [options] > " + spec + "'");
            } catch (IOException e) {
                throw new IllegalArgumentException("--spec " + spec + ": cannot read (" + e.getMessage() + ")");
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--spec " + spec + ": " + e.getMessage());
            }
        } else {
            s = RunSpec.fromCheckpoint(checkpoint);
        }
        if (out != null) {
            return s.withOut(out);
        }
        if (resume != null) {
            return s.withOut(Checkpoint.exists(resume) ? resume.toAbsolutePath().getParent() : resume);
        }
        return s;
    }

    @Override
    public Integer call() throws IOException {
        if (workers <= 0) {
            throw new IllegalArgumentException("--workers must be a positive integer, got " + workers);
        }
        Checkpoint checkpoint = null;
        if (resume != null) {
            Path dir = Checkpoint.exists(resume) ? resume : resume.resolve(Run.CHECKPOINT_DIR);
            checkpoint = Checkpoint.load(dir);
        }
        Run<?> run = Run.prepare(runSpec(checkpoint), checkpoint);
        PrintWriter console = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        SparkConf conf = new SparkConf().setAppName("accrue-train");
        if (!conf.contains("spark.master")) {
            conf.setMaster(master != null ? master : "local[" + workers + "]");
        }
        // A step's task results are whole gradient buffers: allow them beyond the 1 GiB default.
        conf.setIfMissing("spark.driver.maxResultSize", "0");
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            spark.setLogLevel("WARN");
            SparkGradientSync sync = new SparkGradientSync(spark, SpecRecipe.of(run.spec()), workers,
                    run.spec().train().microBatch());
            console.printf(Locale.ROOT, "accrue spark train: %d workers, master %s%n", workers, spark.master());
            run.gradientSync(sync).execute(new Console(run, console));
        } finally {
            Workers.closeAll();
        }
        return 0;
    }

    /** One plain line per step, with the synchronization's overhead. */
    private final class Console implements RunListener {
        private final Run<?> run;
        private final PrintWriter out;
        private long planned;

        Console(Run<?> run, PrintWriter out) {
            this.run = run;
            this.out = out;
        }

        @Override
        public void line(String text) {
            out.println(text);
        }

        @Override
        public void started(long plannedSteps, long doneSteps, String unit) {
            planned = plannedSteps;
        }

        @Override
        public void step(StepReport r) {
            long done = r.metrics().step() + 1;
            out.printf(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e  %,.0f tok/s%n", done, planned,
                    r.metrics().loss(), r.metrics().lr(), r.rate());
            if (stopAfter != null && done >= stopAfter) {
                run.stop();
            }
        }
    }
}
