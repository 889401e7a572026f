package io.accrue.spark;

import io.accrue.data.EnvironmentException;
import io.accrue.run.Run;
import io.accrue.run.RunSpec;
import io.accrue.train.Checkpoint;
import io.accrue.train.CheckpointException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import picocli.CommandLine;
import scala.Function1;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;
import scala.reflect.ClassTag$;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/**
 * {@code spark-submit --class io.accrue.spark.SparkTrain accrue-spark.jar train --spec RUN.json --workers W}: the run
 * that {@code accrue train --print-spec [options]} describes (or a checkpoint's, with {@code --resume}), trained by W
 * long-lived barrier tasks, each a {@link Replica} holding the model and optimizer state and combining gradient sums
 * with the others directly ({@link RingGradientSync}); the driver only validates, launches the stage and prints rank
 * 0's account. Rank 0 writes the same run directory as {@code accrue train}: {@code metrics.jsonl} (plus
 * {@code sync_ms}, {@code sync_cpu_ms} and {@code wait_ms}), {@code results.json} (plus {@code workers}) and
 * {@code checkpoint/}.
 */
@Command(name = "train", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = "Train with exact gradient accumulation, data-parallel on Spark (W replicas in a barrier stage).")
public final class SparkTrain implements Callable<Integer> {
    /** Exit code of bad input, as for {@code accrue}. */
    static final int USAGE = 2;
    /** Exit code of a fault of the machine (a full disk, data changed during the run), as for {@code accrue}. */
    static final int ENVIRONMENT = 4;

    @Option(names = "--spec", paramLabel = "RUN.json", description = "The run's description, as 'accrue train "
            + "--print-spec [options]' writes it (its data and output directory at the same path on every executor).")
    Path spec;

    @Option(names = "--workers", paramLabel = "W", defaultValue = "2",
            description = "Replicas: barrier tasks, each running its contiguous share of every window's micro-batches.")
    int workers;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master when not set by spark-submit, "
            + "e.g. local[2]. Default: spark.master, else local[W] (with task retries).")
    String master;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Run directory, on a file system every "
            + "executor shares. Default: the spec's, or the resumed run's.")
    Path out;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a run's directory or its "
            + "checkpoint/; without --spec, the run the checkpoint describes.")
    Path resume;

    @Option(names = "--stop-after", paramLabel = "STEPS", hidden = true,
            description = "Stop after this step, as if interrupted (tests).")
    long stopAfter;

    @Option(names = "--fail-at", paramLabel = "STEP", hidden = true,
            description = "The last replica fails after this step on the stage's first attempt (tests).")
    long failAt;

    /**
     * {@code SparkTrain train [options]}; exit status 0 on success, 2 on bad input, 4 on a fault of the machine (one
     * line on stderr).
     */
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

    /**
     * The command with one-line error reports: exit 2 for bad input, 4 for a fault of the machine, 1 for an internal
     * failure.
     */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SparkTrain());
        cl.setParameterExceptionHandler((ex, args) -> {
            System.err.println("accrue-spark: " + ex.getMessage() + " (see 'SparkTrain train --help')");
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof EnvironmentException) {
                System.err.println("accrue-spark: " + ex.getMessage());
                return ENVIRONMENT;
            }
            boolean usage = ex instanceof IllegalArgumentException || ex instanceof CheckpointException;
            String message = String.valueOf(ex.getMessage()).lines().findFirst().orElse("");
            System.err.println("accrue-spark: " + (usage ? "" : "internal error: ") + message);
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
        RunSpec run = absolute(runSpec(checkpoint));
        Run.prepare(run, checkpoint); // validates the spec against its data (and the checkpoint) before any task
        Replica replica = new Replica(run.toJson(), checkpoint == null ? null : checkpoint.dir().toAbsolutePath()
                .toString(), stopAfter, failAt);
        SparkConf conf = new SparkConf().setAppName("accrue-train");
        if (!conf.contains("spark.master")) {
            conf.setMaster(master != null ? master : "local[" + workers + ",4]");
        }
        PrintWriter console = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        try (JavaSparkContext spark = new JavaSparkContext(conf)) {
            spark.setLogLevel("WARN");
            console.printf(Locale.ROOT, "accrue spark train: %d replicas, master %s%n", workers, spark.master());
            List<Integer> ranks = IntStream.range(0, workers).boxed().toList();
            Function1<Iterator<Integer>, Iterator<String>> task = (Function1<Iterator<Integer>, Iterator<String>>
                    & Serializable) rank -> CollectionConverters.asScala(replica.train().iterator());
            RDD<String> stage = spark.parallelize(ranks, workers).rdd().barrier()
                    .mapPartitions(task, false, ClassTag$.MODULE$.apply(String.class));
            // Spark restarts a failed barrier stage only when it is a shuffle map stage: the shuffle makes it one.
            JavaRDD.fromRDD(stage, ClassTag$.MODULE$.<String>apply(String.class)).coalesce(1, true).collect()
                    .forEach(console::println);
        }
        return 0;
    }

    /** {@code spec} with its data and output as absolute paths: executors run in directories of their own. */
    private static RunSpec absolute(RunSpec spec) {
        RunSpec.Builder b = spec.toBuilder().out(spec.out().toAbsolutePath());
        if (spec.data() != null) {
            b.data(spec.data().toAbsolutePath());
        }
        return b.build();
    }
}
