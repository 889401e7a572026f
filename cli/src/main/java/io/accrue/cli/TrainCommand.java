package io.accrue.cli;

import io.accrue.data.EnvironmentException;
import io.accrue.nn.NormKind;
import io.accrue.run.CsvLogger;
import io.accrue.run.Run;
import io.accrue.run.RunResult;
import io.accrue.run.RunSpec;
import io.accrue.run.TaskKind;
import io.accrue.run.TensorBoardLogger;
import io.accrue.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code accrue train}: the options map onto a {@link RunSpec} (only those given change the task's defaults), which
 * {@link Run} validates and executes; this command shows its progress ({@link CliListener}) and draws
 * {@code report.html} from the result. Everything is validated before the output directory is touched.
 */
@Command(name = "train", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        abbreviateSynopsis = true,
        description = {"Train with exact gradient accumulation.",
                "--task addition (the default): a small GPT learns multi-digit addition (\"042+517=9550\", the sum "
                        + "written least-significant digit first) and reports exact-match accuracy on held-out "
                        + "problems.",
                "--task text, or --data FILE|DIR: a GPT on text — a UTF-8 file's bytes (V 256), GPT-2 tokens "
                        + "(--tokenizer gpt2), or shards prepared by 'accrue prepare', with a validation loss.",
                "--task fashion-mnist: a small CNN classifies Fashion-MNIST images and reports test accuracy "
                        + "after every epoch."})
final class TrainCommand implements Callable<Integer> {
    /** The headings of {@code --help} and their options ({@link OptionThemes}). */
    static final Map<String, List<String>> THEMES = themes(
            "Task and data", List.of("--task", "--data", "--tokenizer", "--model", "--context", "--dropout",
                    "--digits", "--train-size", "--eval-size", "--eval-every", "--eval-tokens", "--norm"),
            "Batch, memory and threads", List.of("--micro-batch", "--accum", "--effective-batch", "--memory",
                    "--checkpointing", "--threads", "--concurrent"),
            "Length, optimizer and schedule", List.of("--steps", "--epochs", "--optimizer", "--lr", "--scale-lr",
                    "--max-lr", "--schedule", "--warmup", "--min-lr", "--weight-decay", "--clip", "--seed"),
            "Output and logging", List.of("--out", "--progress", "--log-every", "--csv", "--tensorboard",
                    "--print-spec"),
            "Checkpoints and resuming", List.of("--checkpoint-every", "--checkpoint-minutes", "--resume"));

    private static Map<String, List<String>> themes(Object... headingsAndNames) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < headingsAndNames.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<String> names = (List<String>) headingsAndNames[i + 1];
            m.put((String) headingsAndNames[i], names);
        }
        return m;
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--task", paramLabel = "TASK", description = "addition, text (a byte-level GPT on --data) or "
            + "fashion-mnist (a CNN). Default: addition, or text with --data.")
    String taskOption;

    @Option(names = "--model", paramLabel = "NAME|FILE.json",
            description = "Model shape: adder (2 layers, 4 heads, width 128), tiny, small, gpt2, gpt2-medium, or a "
                    + "JSON file {\"layers\":2,\"heads\":4,\"width\":128,\"context\":64,\"vocab\":256,"
                    + "\"dropout\":0} (vocabulary and context follow the data; the file's context is the default "
                    + "--context of --data); for --task fashion-mnist: cnn (two conv blocks, 20K parameters) or "
                    + "resnet (three residual blocks of 32, 64, 128 channels, 298K). Default: adder, tiny with "
                    + "--data, cnn for fashion-mnist.")
    String model;

    @Option(names = "--init-from", paramLabel = "DIR", description = "Text task: fine-tune a Hugging Face GPT-2 "
            + "directory (config.json and model.safetensors, or a sharded index; from save_pretrained or accrue "
            + "export): its config gives the shape (no --model) and its vocabulary the run's; the tokenizer is gpt2 "
            + "for a vocabulary of 50,257, else bytes, unless --tokenizer or the data says otherwise.")
    Path initFrom;

    @Option(names = "--data", paramLabel = "FILE.txt|DIR", description = "Text task: a directory prepared by "
            + "'accrue prepare' (train.bin, val.bin, meta.json; nanoGPT's shards too), memory-mapped; or a text file "
            + "(read as bytes, or with --tokenizer gpt2 prepared into <out>/data first). Fashion-MNIST: the "
            + "directory holding the four IDX files (default $ACCRUE_FASHION_MNIST, else "
            + "/usr/share/datasets/fashion-mnist).")
    Path data;

    @Option(names = "--tokenizer", paramLabel = "NAME", description = "Text task: bytes (V 256) or gpt2 (GPT-2's "
            + "BPE, V 50,257). Default: bytes for a text file; a prepared directory's own.")
    String tokenizer;

    @Option(names = "--eval-every", paramLabel = "STEPS", description = "Text task: validation loss on val.bin "
            + "every STEPS optimizer steps and after the last (0: none); the best checkpoint by it is kept in "
            + "checkpoint-best/. Default: 250 when the data has a validation split, else 0.")
    Long evalEvery;

    @Option(names = "--eval-tokens", paramLabel = "N", description = "Text task: tokens of val.bin each validation "
            + "scores (whole sequences, the same every time). Default: 32768.")
    Long evalTokens;

    @Option(names = "--norm", paramLabel = "KIND", description = "Fashion-MNIST: normalization after each "
            + "convolution: group (exact under accumulation), layer, batch (statistics per micro-batch: not exact "
            + "for K > 1) or none. Default: group.")
    String norm;

    @Option(names = "--context", paramLabel = "T", description = "Sequence length for --data. Default: the "
            + "model's context.")
    Integer context;

    @Option(names = "--digits", paramLabel = "D", description = "Digits per operand of the addition task. "
            + "Default: 3.")
    Integer digits;

    @Option(names = "--train-size", paramLabel = "N", description = "Addition: generated problems to train on "
            + "(default 100000). Fashion-MNIST: the first N training images (default all 60,000).")
    Integer trainSize;

    @Option(names = "--eval-size", paramLabel = "N", description = "Addition: held-out problems to measure "
            + "exact-match accuracy on (default 1000). Fashion-MNIST: the first N test images (default all 10,000). "
            + "0: skip.")
    Integer evalSize;

    @Mixin
    TrainOptions training;

    @Option(names = "--memory", paramLabel = "SIZE", description = "GPT tasks: a memory budget (e.g. 2g, 800m); "
            + "the planner picks the largest micro-batch B that fits and K = N/B, and a budget that not even B = 1 "
            + "fits is refused before anything is allocated. The launcher sizes the JVM heap from the plan.")
    String memory;

    @Option(names = "--checkpointing", description = "GPT tasks: activation checkpointing (keep each block's "
            + "output only, recompute the block during backward); --memory plans with it.")
    boolean checkpointing;

    @Option(names = "--dropout", paramLabel = "P", description = "Dropout probability. Default: the --model "
            + "file's, else 0.")
    Float dropout;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Output directory for metrics, results, "
            + "report and checkpoint. Default: runs/<task>-<time>, or the --resume run.")
    Path out;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "0",
            description = "Save a checkpoint every STEPS steps (0: none by step count). There is always one at the "
                    + "end and on Ctrl-C/SIGTERM; the last two are kept.")
    long checkpointEvery;

    @Option(names = "--checkpoint-minutes", paramLabel = "MIN", defaultValue = "30",
            description = "Save a checkpoint every MIN minutes of training, also between two micro-batches of a step "
                    + "(0: none by time).")
    double checkpointMinutes;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint (a run's --out or its "
            + "checkpoint/ directory) as the checkpoint describes the run. Options given change that description: "
            + "those that change nothing in the training may (threads, concurrency, progress, output, checkpoint "
            + "cadence, B with K at the same effective batch); any other that differs is refused.")
    Path resume;

    @Option(names = "--print-spec", description = "Validate, print the run's description (the JSON that checkpoints "
            + "store and the Spark launcher's --spec reads) and stop.")
    boolean printSpec;

    @Option(names = "--progress", paramLabel = "MODE", defaultValue = "auto",
            description = "plain: a line every --log-every steps; bar: a live progress bar (step, micro-batch, loss, "
                    + "lr, tokens/s, ETA); auto: the bar when the output is a terminal.")
    String progressOption;

    @Option(names = "--log-every", paramLabel = "STEPS", defaultValue = "0", description = "Plain progress: a line "
            + "every STEPS optimizer steps (0: about every 10 seconds of training); the first and last step always. "
            + "metrics.jsonl has every step.")
    long logEvery;

    Progress.Mode progress;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write every step's metrics (the columns of "
            + "metrics.jsonl) to this CSV file.")
    Path csv;

    @Option(names = "--tensorboard", paramLabel = "DIR", description = "Also write every step's metrics as "
            + "TensorBoard scalars to an event file in DIR (tensorboard --logdir DIR).")
    Path tensorboard;

    @Option(names = "--stop-after", paramLabel = "STEPS", hidden = true,
            description = "Stop after this step, as if interrupted (tests).")
    Long stopAfter;

    @Option(names = "--step-delay", paramLabel = "MS", hidden = true, defaultValue = "0",
            description = "Sleep this long after each step (tests that kill a run between checkpoints).")
    long stepDelay;

    @Option(names = "--micro-batch-delay", paramLabel = "MS", hidden = true, defaultValue = "0",
            description = "Sleep this long after each micro-batch (tests that signal or kill a run inside a step).")
    long microBatchDelay;

    @Option(names = "--checkpoint-delay", paramLabel = "MS", hidden = true, defaultValue = "0",
            description = "Sleep this long after each file of a checkpoint is complete, before it is renamed (tests "
                    + "that kill a run inside a checkpoint write).")
    long checkpointDelay;

    @Option(names = "--heap-only", hidden = true, description = "Validate, plan, print the Java heap the plan needs "
            + "in MiB (the launcher's -Xmx) and stop.")
    boolean heapOnly;

    @Override
    public Integer call() throws IOException {
        PrintWriter console = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Checkpoint checkpoint = resume != null ? loadCheckpoint(resume) : null;
        Run<?> run = Run.prepare(runSpec(checkpoint), checkpoint, PrepareCommand.listener(console, progress));
        if (run.plan() != null) {
            long planned = run.plannedBytes();
            ErrorHandlers.planned(planned, run.heapMiB() << 20);
            MemoryRefusal.refuseBeyond(planned, "this run", run.task().unitsPerExample() > 1
                    ? "use --checkpointing, a smaller --micro-batch, or --memory SIZE to let the planner choose B and K"
                    : "use a smaller --micro-batch, or --memory SIZE to let the planner choose B and K");
        }
        if (heapOnly) {
            console.println(run.heapMiB());
            console.flush();
            return 0;
        }
        if (printSpec) {
            console.println(run.spec().toJson());
            console.flush();
            return 0;
        }
        if (logEvery < 0) {
            throw new UsageException("--log-every must be ≥ 0, got " + logEvery);
        }
        if (csv != null) {
            run.logTo(new CsvLogger(csv));
        }
        if (tensorboard != null) {
            run.logTo(new TensorBoardLogger(tensorboard));
        }
        LauncherLink.tell("run", run.spec().out().toString());
        CliListener listener = new CliListener(run, console, progress, logEvery, stopAfter, stepDelay, microBatchDelay,
                checkpointDelay);
        RunResult result;
        int signalled;
        try (Signals signals = Signals.install(run::stop, err)) {
            result = run.execute(listener);
            signalled = signals.exitCode();
        }
        if (!result.finished()) {
            console.printf(Locale.ROOT, "stopped at step %d, micro-batch %d of %d; resume with: accrue train --resume "
                    + "%s%n", result.steps(), result.windowMicroBatchesDone(), result.windowK(), result.spec().out());
        }
        try {
            Path report = Report.write(result);
            console.println("report: " + report);
        } catch (EnvironmentException e) {
            throw e.then("the run itself is complete (its checkpoint and results.json are written); only report.html "
                    + "is missing");
        } catch (IOException | RuntimeException | LinkageError e) {
            console.println("report: not written (" + e + ")");
        }
        console.flush();
        return signalled;
    }

    /** A checkpoint directory, or a run directory holding {@code checkpoint/}. */
    private static Checkpoint loadCheckpoint(Path dir) {
        Path cp = Checkpoint.exists(dir) ? dir : dir.resolve(Run.CHECKPOINT_DIR);
        return Checkpoint.load(Checkpoint.exists(cp) ? cp : dir);
    }

    /** The run directory of a resumed run without {@code --out}: the run that holds the checkpoint. */
    private Path resumedOut(Checkpoint cp) {
        if (out != null) {
            return out;
        }
        return Checkpoint.exists(resume) ? resume.toAbsolutePath().getParent() : resume;
    }

    /**
     * The options as a run description; nothing written and no data read yet. Resuming a checkpoint that holds its
     * run's description, that description is the base and the options given change it (what they may change is
     * checked against it by {@link Run#prepare}); otherwise the task's defaults are.
     */
    private RunSpec runSpec(Checkpoint checkpoint) {
        var parsed = spec.commandLine().getParseResult();
        RunSpec saved = checkpoint != null && checkpoint.run() != null
                ? RunSpec.fromCheckpoint(checkpoint).withOut(resumedOut(checkpoint)) : null;
        TaskKind task = taskOption != null ? TaskKind.of(taskOption) : saved != null ? saved.task()
                : data != null ? TaskKind.TEXT : TaskKind.ADDITION;
        if (saved != null && task != saved.task()) {
            throw new UsageException("--resume " + resume + ": the checkpoint's run has task = " + saved.task().id()
                    + ", these options give " + task.id() + "; that changes the training, so it cannot change on "
                    + "resume");
        }
        if (memory != null && training.batchGiven()) {
            throw new UsageException("--memory chooses the micro-batch and K itself; drop --micro-batch and --accum "
                    + "(give the effective batch with --effective-batch)");
        }
        progress = TrainOptions.parseEnum(Progress.Mode.class, "--progress", progressOption, "plain, bar or auto");
        NormKind normKind = norm == null ? null
                : TrainOptions.parseEnum(NormKind.class, "--norm", norm, "group, layer, batch or none");
        if (stopAfter != null) {
            TrainOptions.positive("--stop-after", stopAfter);
        }
        RunSpec.Builder b = saved != null ? saved.toBuilder() : RunSpec.builder(task);
        if (model != null) {
            b.model(model);
        }
        if (data != null) {
            b.data(data);
        }
        if (initFrom != null) {
            b.initFrom(initFrom);
        }
        if (context != null) {
            b.context(context);
        }
        if (dropout != null) {
            b.dropout(dropout);
        }
        if (digits != null) {
            b.digits(digits);
        }
        if (trainSize != null) {
            b.trainSize(trainSize);
        }
        if (evalSize != null) {
            b.evalSize(evalSize);
        }
        if (normKind != null) {
            b.norm(normKind);
        }
        if (checkpointing) {
            b.checkpointing(true);
        }
        if (tokenizer != null) {
            b.tokenizer(tokenizer);
        }
        if (evalEvery != null) {
            b.evalEvery(evalEvery);
        }
        if (evalTokens != null) {
            b.evalTokens(evalTokens);
        }
        if (memory != null) {
            b.memoryBudget(PlanCommand.parseBytes(memory));
        } else if (saved != null && training.batchGiven()) {
            b.memoryBudget(0); // B or K given: they replace the budget's choice
        }
        if (saved == null || out != null) {
            b.out(checkpoint != null ? resumedOut(checkpoint) : out);
        }
        if (saved == null || parsed.hasMatchedOption("--checkpoint-every")) {
            b.checkpointEvery(checkpointEvery);
        }
        if (saved == null || parsed.hasMatchedOption("--checkpoint-minutes")) {
            b.checkpointMinutes(checkpointMinutes);
        }
        return b.train(training::applyTo).build();
    }
}
