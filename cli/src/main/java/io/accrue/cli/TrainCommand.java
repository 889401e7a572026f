package io.accrue.cli;

import io.accrue.nn.NormKind;
import io.accrue.run.Run;
import io.accrue.run.RunResult;
import io.accrue.run.RunSpec;
import io.accrue.run.TaskKind;
import io.accrue.train.Checkpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code accrue train}: the options map onto a {@link RunSpec} (only those given change the task's defaults), which
 * {@link Run} validates and executes; this command shows its progress ({@link CliListener}) and draws
 * {@code report.html} from the result. Everything is validated before the output directory is touched.
 */
@Command(name = "train", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = {"Train with exact gradient accumulation.",
                "--task addition (the default): a small GPT learns multi-digit addition (\"042+517=9550\", the sum "
                        + "written least-significant digit first) and reports exact-match accuracy on held-out "
                        + "problems.",
                "--task text, or --data FILE|DIR: a GPT on text — a UTF-8 file's bytes (V 256), GPT-2 tokens "
                        + "(--tokenizer gpt2), or shards prepared by 'accrue prepare', with a validation loss.",
                "--task fashion-mnist: a small CNN classifies Fashion-MNIST images and reports test accuracy "
                        + "after every epoch."})
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--task", paramLabel = "TASK", description = "addition, text (a byte-level GPT on --data) or "
            + "fashion-mnist (a CNN). Default: addition, or text with --data.")
    String taskOption;

    @Option(names = "--model", paramLabel = "NAME|FILE.json",
            description = "Model shape: adder (2 layers, 4 heads, width 128), tiny, small, gpt2, gpt2-medium, or a "
                    + "JSON file {\"layers\":2,\"heads\":4,\"width\":128,\"context\":64,\"vocab\":256,"
                    + "\"dropout\":0} (vocabulary and context follow the data; the file's context is the default "
                    + "--context of --data). Default: adder, or tiny with --data.")
    String model;

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
            description = "Save a checkpoint every STEPS steps (0: only at the end).")
    long checkpointEvery;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint (a run's --out or its "
            + "checkpoint/ directory). Alone, it continues the run as the checkpoint describes it; with training "
            + "options, they must describe the same data and model.")
    Path resume;

    @Option(names = "--print-spec", description = "Validate, print the run's description (the JSON that checkpoints "
            + "store and the Spark launcher's --spec reads) and stop.")
    boolean printSpec;

    @Option(names = "--progress", paramLabel = "MODE", defaultValue = "auto",
            description = "plain: one line per optimizer step; bar: a live progress bar (step, micro-batch, loss, "
                    + "lr, tokens/s, memory, ETA); auto: the bar when the output is a terminal.")
    String progressOption;

    Progress.Mode progress;

    @Option(names = "--stop-after", paramLabel = "STEPS", hidden = true,
            description = "Stop after this step, as if interrupted (tests).")
    Long stopAfter;

    @Option(names = "--step-delay", paramLabel = "MS", hidden = true, defaultValue = "0",
            description = "Sleep this long after each step (tests that kill a run between checkpoints).")
    long stepDelay;

    @Option(names = "--heap-only", hidden = true, description = "With --memory: validate, print the Java heap the "
            + "plan needs in MiB (the launcher's -Xmx) and stop.")
    boolean heapOnly;

    @Override
    public Integer call() throws IOException {
        PrintWriter console = spec.commandLine().getOut();
        Checkpoint checkpoint = resume != null ? loadCheckpoint(resume) : null;
        RunSpec runSpec = checkpoint != null && onlyRunOptionsGiven() ? resumedSpec(checkpoint) : runSpec(checkpoint);
        Run<?> run = Run.prepare(runSpec, checkpoint, PrepareCommand.listener(console, progress));
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
        CliListener listener = new CliListener(run, console, progress, stopAfter, stepDelay);
        RunResult result = run.execute(listener);
        try {
            Path report = Report.write(result);
            console.println("report: " + report);
        } catch (IOException | RuntimeException | LinkageError e) {
            console.println("report: not written (" + e + ")");
        }
        console.flush();
        return 0;
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

    /** Whether the command line holds nothing but how to run: the checkpoint, the output, progress, test hooks. */
    private boolean onlyRunOptionsGiven() {
        Set<String> runOptions = Set.of("--resume", "--out", "--progress", "--stop-after", "--step-delay",
                "--heap-only", "--print-spec", "--checkpoint-every");
        return spec.commandLine().getParseResult().matchedOptions().stream()
                .allMatch(o -> runOptions.contains(o.longestName()));
    }

    /** The checkpoint's own description, with this command line's output directory and checkpoint interval. */
    private RunSpec resumedSpec(Checkpoint cp) {
        RunSpec saved = RunSpec.fromCheckpoint(cp).withOut(resumedOut(cp));
        progress = TrainOptions.parseEnum(Progress.Mode.class, "--progress", progressOption, "plain, bar or auto");
        if (stopAfter != null) {
            TrainOptions.positive("--stop-after", stopAfter);
        }
        if (heapOnly && saved.memoryBudget() == 0) {
            throw new UsageException("--heap-only needs --memory");
        }
        boolean everyGiven = spec.commandLine().getParseResult().hasMatchedOption("--checkpoint-every");
        return everyGiven ? saved.withCheckpointEvery(checkpointEvery) : saved;
    }

    /** The options as a run description; nothing written and no data read yet. */
    private RunSpec runSpec(Checkpoint checkpoint) {
        TaskKind task = taskOption != null ? TaskKind.of(taskOption)
                : data != null ? TaskKind.TEXT : TaskKind.ADDITION;
        if (memory != null && training.batchGiven()) {
            throw new UsageException("--memory chooses the micro-batch and K itself; drop --micro-batch and --accum "
                    + "(give the effective batch with --effective-batch)");
        }
        if (heapOnly && memory == null) {
            throw new UsageException("--heap-only needs --memory");
        }
        progress = TrainOptions.parseEnum(Progress.Mode.class, "--progress", progressOption, "plain, bar or auto");
        NormKind normKind = norm == null ? null
                : TrainOptions.parseEnum(NormKind.class, "--norm", norm, "group, layer, batch or none");
        if (stopAfter != null) {
            TrainOptions.positive("--stop-after", stopAfter);
        }
        return RunSpec.builder(task).model(model).data(data).context(context).dropout(dropout).digits(digits)
                .trainSize(trainSize).evalSize(evalSize).norm(normKind).checkpointing(checkpointing)
                .tokenizer(tokenizer).evalEvery(evalEvery).evalTokens(evalTokens)
                .memoryBudget(memory != null ? PlanCommand.parseBytes(memory) : 0)
                .out(checkpoint != null ? resumedOut(checkpoint) : out).checkpointEvery(checkpointEvery)
                .train(training::applyTo).build();
    }
}
