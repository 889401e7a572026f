package io.accrue.cli;

import io.accrue.data.Dataset;
import io.accrue.data.FashionMnist;
import io.accrue.models.GptConfig;
import io.accrue.models.Model;
import io.accrue.nn.NormKind;
import io.accrue.optim.LinearScaling;
import io.accrue.train.Checkpoint;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.MemoryUsage;
import io.accrue.train.OptimizerKind;
import io.accrue.train.ScheduleKind;
import io.accrue.train.StepListener;
import io.accrue.train.StepMetrics;
import io.accrue.train.TrainConfig;
import io.accrue.train.TrainResult;
import io.accrue.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code accrue train}: options map onto {@link TrainConfig} and the task's model; everything is validated before
 * the output directory is touched. The tasks ({@link Task}: the addition task, a text file, Fashion-MNIST) share
 * the options, the training loop, progress, metrics, report, memory summary and checkpoints. Writes
 * {@code metrics.jsonl} (one JSON line per optimizer step), {@code results.json}, {@code report.html} and the
 * checkpoint directory {@code checkpoint/} into {@code --out}.
 */
@Command(name = "train", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = {"Train with exact gradient accumulation.",
                "--task addition (the default): a small GPT learns multi-digit addition (\"042+517=9550\", the sum "
                        + "written least-significant digit first) and reports exact-match accuracy on held-out "
                        + "problems.",
                "--task text, or --data FILE: a byte-level GPT (V 256) on any UTF-8 text file.",
                "--task fashion-mnist: a small CNN classifies Fashion-MNIST images and reports test accuracy "
                        + "after every epoch."})
final class TrainCommand implements Callable<Integer> {
    static final String ADDITION = "addition";
    static final String TEXT = "text";
    static final String FASHION_MNIST = "fashion-mnist";

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

    @Option(names = "--data", paramLabel = "FILE.txt|DIR", description = "Text task: the text file to train a "
            + "byte-level model on. Fashion-MNIST: the directory holding the four IDX files (default "
            + "$ACCRUE_FASHION_MNIST, else /usr/share/datasets/fashion-mnist).")
    Path data;

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

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: 1 for the adder model "
            + "(its matrices are too small to split), else all cores.")
    Integer threads;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", description = "Output directory for metrics, results, "
            + "report and checkpoint. Default: runs/<task>-<time>, or the --resume run.")
    Path out;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS", defaultValue = "0",
            description = "Save a checkpoint every STEPS steps (0: only at the end).")
    long checkpointEvery;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint (a run's --out or its "
            + "checkpoint/ directory); give the same training options as the interrupted run.")
    Path resume;

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
        Run<?> run = prepare();
        if (heapOnly) {
            console.println(run.heapMiB());
            console.flush();
            return 0;
        }
        return run.execute(console);
    }

    /** Everything validated, nothing written and no model allocated yet. */
    private Run<?> prepare() {
        String taskName = taskOption != null ? taskOption.toLowerCase(Locale.ROOT) : data != null ? TEXT : ADDITION;
        switch (taskName) {
            case ADDITION, TEXT, FASHION_MNIST -> { }
            default -> throw new UsageException("--task: unknown value '" + taskOption
                    + "'; use addition, text or fashion-mnist");
        }
        boolean vision = taskName.equals(FASHION_MNIST);
        if (taskName.equals(TEXT) && data == null) {
            throw new UsageException("--task text needs --data FILE.txt, the text file to train on");
        }
        if (taskName.equals(ADDITION) && data != null) {
            throw new UsageException("--data applies to --task text or fashion-mnist; the addition task generates "
                    + "its data (drop --task addition or --data)");
        }
        if (!vision && norm != null) {
            throw new UsageException("--norm applies to --task fashion-mnist only; a GPT uses LayerNorm");
        }
        if (vision) {
            gptOnly("--model", model != null);
            gptOnly("--context", context != null);
            gptOnly("--dropout", dropout != null);
            gptOnly("--digits", digits != null);
            gptOnly("--memory", memory != null);
            gptOnly("--checkpointing", checkpointing);
        }
        if (memory != null && (training.microBatch != null || training.accum != null)) {
            throw new UsageException("--memory chooses the micro-batch and K itself; drop --micro-batch and --accum "
                    + "(give the effective batch with --effective-batch)");
        }
        if (heapOnly && memory == null) {
            throw new UsageException("--heap-only needs --memory");
        }
        int b = training.checkedMicroBatch(vision ? 16 : 8);
        if (checkpointEvery < 0) {
            throw new UsageException("--checkpoint-every must be ≥ 0, got " + checkpointEvery);
        }
        TrainOptions.positiveIfGiven("--train-size", trainSize);
        if (evalSize != null && evalSize < 0) {
            throw new UsageException("--eval-size must be ≥ 0, got " + evalSize);
        }
        TrainOptions.positiveIfGiven("--threads", threads);
        progress = TrainOptions.parseEnum(Progress.Mode.class, "--progress", progressOption, "plain, bar or auto");
        training.scheduleKind(); // checked before any data is read
        OptimizerKind optimizerKind = training.optimizerKind();
        NormKind normKind = vision ? TrainOptions.parseEnum(NormKind.class, "--norm", norm != null ? norm : "group",
                "group, layer, batch or none") : null;
        if (normKind == NormKind.RMS) {
            throw new UsageException("--norm rms is not offered for images; use group, layer, batch or none");
        }
        if (vision && resume != null && normKind == NormKind.BATCH) {
            throw new UsageException("--resume: checkpoints do not hold BatchNorm's running statistics, so a "
                    + "--norm batch run cannot be resumed exactly; train it in one go or use --norm group");
        }
        int n = training.effectiveBatch(b);
        Integer k = training.accum;
        int threadCount = threads != null ? threads : Runtime.getRuntime().availableProcessors();

        Task<?> task;
        MemoryPlan plan = null;
        long dataBytes = 0;
        if (vision) {
            task = VisionTask.load(normKind, data != null ? data : FashionMnist.defaultDirectory(), trainSize,
                    evalSize);
        } else {
            String modelName = model != null ? model : data != null ? "tiny" : ModelSpec.ADDER;
            GptConfig shape = ModelSpec.resolve(modelName);
            TokenData tokens;
            int problems = trainSize != null ? trainSize : 100_000;
            if (data != null) {
                int t = context != null ? context : shape.context();
                TrainOptions.positive("--context", t);
                tokens = TokenData.bytes(data, t);
            } else {
                if (context != null) {
                    throw new UsageException("--context applies to --data only; the addition task sets its own length");
                }
                int d = digits != null ? digits : 3;
                TrainOptions.positive("--digits", d);
                tokens = TokenData.addition(d, problems, training.seed());
            }
            GptConfig gpt = shape.withVocab(tokens.vocab()).withContext(tokens.seq())
                    .withDropout(dropout != null ? dropout : shape.dropout());
            if (threads == null && ModelSpec.ADDER.equalsIgnoreCase(modelName)) {
                threadCount = 1;
            }
            if (memory != null) {
                long budget = PlanCommand.parseBytes(memory);
                double momentum = optimizerKind == OptimizerKind.SGD ? 0.9 : 0;
                plan = MemoryPlanner.fit(gpt, budget, n, tokens.seq(), optimizerKind, momentum, threadCount,
                        checkpointing, training.concurrent());
                b = plan.microBatch();
                k = plan.accumulation();
                dataBytes = tokens.footprintBytes();
            }
            int evalChunk = plan != null ? b : 250;
            task = new GptTask(tokens, modelName, gpt, checkpointing, evalSize != null ? evalSize : 1000, problems,
                    evalChunk);
        }

        TrainConfig config = training.config(b, k, n, threadCount, vision ? 2e-3 : TrainOptions.GPT_LR, vision);
        int examples = task.train().size();
        if (config.microBatch() > examples) {
            throw new UsageException("--micro-batch " + config.microBatch() + " exceeds the " + examples
                    + " training examples; use --micro-batch ≤ " + examples + " or more data");
        }

        Checkpoint checkpoint = null;
        Path outDir = out;
        if (resume != null) {
            Path dir = Checkpoint.exists(resume) ? resume : resume.resolve("checkpoint");
            checkpoint = Checkpoint.load(Checkpoint.exists(dir) ? dir : resume);
            checkCompatible(checkpoint, task);
            if (outDir == null) {
                outDir = dir.equals(resume) ? resume.toAbsolutePath().getParent() : resume;
            }
        }
        if (outDir == null) {
            outDir = Path.of("runs", task.name() + "-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageException("--out " + outDir + " is a file; give a directory (it is created if missing)");
        }
        if (stopAfter != null) {
            TrainOptions.positive("--stop-after", stopAfter);
        }
        return new Run<>(this, task, config, plan, dataBytes, checkpoint, outDir);
    }

    private static void gptOnly(String option, boolean given) {
        if (given) {
            throw new UsageException(option + " applies to the GPT tasks (addition, text), not fashion-mnist");
        }
    }

    private static void checkCompatible(Checkpoint cp, Task<?> task) {
        for (Map.Entry<String, String> e : task.identity().entrySet()) {
            String saved = cp.metadata().get(e.getKey());
            if (e.getValue().equals(saved)) {
                continue;
            }
            if (e.getKey().equals("model_config")) {
                throw new UsageException("--resume " + cp.dir() + ": the checkpoint is of model " + saved
                        + ", these options give " + e.getValue() + "; resume with the original options");
            }
            throw new UsageException("--resume " + cp.dir() + ": the checkpoint was trained with " + e.getKey()
                    + "=" + saved + ", these options give " + e.getValue() + "; resume with the original data");
        }
    }

    /**
     * A validated run of any task: one training loop, progress, metrics, evaluation, report and memory summary.
     *
     * @param plan      the memory plan under {@code --memory}, else null
     * @param dataBytes an estimate of the training data's heap footprint (with a plan)
     */
    private record Run<I>(TrainCommand opts, Task<I> task, TrainConfig config, MemoryPlan plan, long dataBytes,
                          Checkpoint resumeFrom, Path out) {

        /** The Java heap in MiB (-Xmx) the plan needs, with the training data. */
        long heapMiB() {
            return ((plan.heapBytes() + dataBytes) >> 20) + 1;
        }

        int execute(PrintWriter console) throws IOException {
            Model<I> model = task.model(config.seed());
            Map<String, String> meta = metadata();
            long arenaFloats = plan != null ? plan.activationBytes() / Float.BYTES : 0;
            Dataset<I> data = task.train();
            try (Trainer<I> trainer = new Trainer<>(config, model, data, arenaFloats)) {
                if (resumeFrom != null) {
                    resumeFrom.restoreWeights(model.parameters());
                    resumeFrom.restoreOptimizer(trainer.optimizer());
                    trainer.restore(resumeFrom.state());
                }
                long planned = trainer.plannedSteps();
                printConfig(console, model, planned);
                Files.createDirectories(out);
                Path checkpointDir = out.resolve("checkpoint");
                Path metricsFile = out.resolve("metrics.jsonl");
                if (resumeFrom != null) {
                    Metrics.truncate(metricsFile, resumeFrom.state().step());
                }
                List<StepMetrics> history = new ArrayList<>();
                List<Report.Eval> evals = new ArrayList<>();
                Task.Evaluation[] lastEval = {null};
                double[] evalSeconds = {0};
                String rateKey = task.unit().equals("tok") ? "tokens_per_s" : "images_per_s";
                long startNanos = System.nanoTime();
                try (BufferedWriter metrics = Files.newBufferedWriter(metricsFile, StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        resumeFrom != null ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                    Progress progress = Progress.create(opts.progress, console, planned, trainer.state().step(),
                            task.unit());
                    Warnings warnings = Warnings.to(progress::println);
                    long firstStep = trainer.state().step();
                    long[] peakHeap = {0};
                    Runtime rt = Runtime.getRuntime();
                    trainer.addListener(new StepListener() {
                        @Override
                        public void onMicroBatch(long step, int micro, int k) {
                            progress.micro(step, micro, k);
                        }

                        @Override
                        public void onStep(StepMetrics m) {
                            history.add(m);
                            double elapsed = (System.nanoTime() - startNanos) / 1e9;
                            double rate = m.examples() * (double) task.unitsPerExample() / m.seconds();
                            MemoryUsage memory = trainer.memoryUsage();
                            long heap = rt.totalMemory() - rt.freeMemory();
                            peakHeap[0] = Math.max(peakHeap[0], heap);
                            long done = m.step() + 1;
                            double eta = elapsed / (done - firstStep) * (planned - done);
                            progress.step(new Progress.Step(m, memory, heap, rate, elapsed, eta));
                            boolean epochEnd = trainer.state().cursor() >= data.size();
                            Task.Evaluation ev = null;
                            if (done >= planned || epochEnd && task.evaluatesEachEpoch()) {
                                String when = epochEnd ? "after epoch " + (m.epoch() + 1) + " (step " + done + ")"
                                        : "after step " + done;
                                ev = task.evaluate(trainer, when, progress::println);
                                if (ev != null) {
                                    lastEval[0] = ev;
                                    evalSeconds[0] += ev.seconds();
                                    evals.add(new Report.Eval(m.epoch() + 1, done, ev.metric(), ev.value()));
                                }
                            }
                            try {
                                metrics.write(Metrics.json(m, rateKey, rate, elapsed, memory, heap,
                                        ev != null ? ev.metric() : null, ev != null ? ev.value() : Double.NaN));
                                metrics.newLine();
                                metrics.flush();
                                if (opts.checkpointEvery > 0 && done % opts.checkpointEvery == 0 && done < planned) {
                                    Checkpoint.save(checkpointDir, model.parameters(), trainer.optimizer(),
                                            trainer.state(), meta);
                                }
                            } catch (IOException e) {
                                throw new UncheckedIOException(e);
                            }
                            if (opts.stopAfter != null && done >= opts.stopAfter) {
                                trainer.stop();
                            }
                            if (opts.stepDelay > 0) {
                                try {
                                    Thread.sleep(opts.stepDelay);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                    trainer.stop();
                                }
                            }
                        }
                    });
                    TrainResult result;
                    try {
                        result = trainer.fit();
                    } catch (UncheckedIOException e) {
                        throw e.getCause();
                    } finally {
                        warnings.close();
                        progress.close();
                    }
                    warnings.printMissed(result.warnings(), console::println);
                    Checkpoint.save(checkpointDir, model.parameters(), trainer.optimizer(), trainer.state(), meta);
                    boolean finished = trainer.state().step() >= planned;
                    double trainSeconds = result.seconds() - evalSeconds[0];
                    console.printf(Locale.ROOT, "%s after %d steps in %s: final window loss %.4f; checkpoint %s%n",
                            finished ? "done" : "stopped", trainer.state().step(), clock(trainSeconds),
                            result.finalLoss(), checkpointDir);
                    Map<String, Object> results = new LinkedHashMap<>();
                    results.put("steps", trainer.state().step());
                    results.put("planned_steps", planned);
                    results.put("final_loss", result.finalLoss());
                    results.put("train_seconds", trainSeconds);
                    results.put("skipped_windows", result.skippedWindows());
                    MemoryUsage memory = trainer.memoryUsage();
                    console.println(memorySummary(memory, peakHeap[0]));
                    results.put("weights_bytes", memory.weightsBytes());
                    results.put("grads_bytes", memory.gradsBytes());
                    results.put("optimizer_bytes", memory.optimizerBytes());
                    results.put("arena_high_water_bytes", memory.arenaHighWaterBytes());
                    results.put("memory_total_bytes", memory.totalBytes());
                    results.put("heap_used_peak_bytes", peakHeap[0]);
                    if (plan != null) {
                        results.put("planned_total_bytes", plan.totalBytes());
                        results.put("planned_activation_bytes", plan.activationBytes());
                    }
                    if (lastEval[0] != null) {
                        results.putAll(lastEval[0].results());
                        results.put("eval_seconds", evalSeconds[0]);
                    }
                    for (int i = 0; i < result.warnings().size(); i++) {
                        results.put("warning" + (i == 0 ? "" : "_" + (i + 1)), result.warnings().get(i));
                    }
                    Files.writeString(out.resolve("results.json"), Metrics.object(results) + "\n");
                    try {
                        Path report = Report.write(out, describe(model, planned), results, history, evals,
                                task.unit().equals("tok") ? "examples/s" : "images/s");
                        console.println("report: " + report);
                    } catch (IOException | RuntimeException | LinkageError e) {
                        console.println("report: not written (" + e + ")");
                    }
                }
            }
            return 0;
        }

        private String memorySummary(MemoryUsage m, long peakHeap) {
            StringBuilder opt = new StringBuilder();
            String name = config.optimizer().toString().toLowerCase(Locale.ROOT);
            if (m.optimizerStateBytes().isEmpty()) {
                opt.append(name).append(" state none");
            } else {
                opt.append(name).append(" state ").append(m.optimizerStateBytes().size()).append(" × ")
                        .append(Progress.bytes(m.optimizerStateBytes().getFirst()));
            }
            return "memory: weights " + Progress.bytes(m.weightsBytes()) + " + gradients "
                    + Progress.bytes(m.gradsBytes()) + " + " + opt + " + activation arena high-water "
                    + Progress.bytes(m.arenaHighWaterBytes()) + " = " + Progress.bytes(m.totalBytes())
                    + "; JVM heap used at most " + Progress.bytes(peakHeap) + " (sampled at step ends)";
        }

        private Map<String, String> metadata() {
            Map<String, String> m = new LinkedHashMap<>(task.identity());
            m.putAll(task.metadata());
            m.put("train_config", config.toString());
            return m;
        }

        private String batchLine(long planned) {
            String perStep = task.unitsPerExample() > 1 ? String.format(Locale.ROOT, ", %,d tokens per step",
                    (long) config.effectiveBatch() * task.unitsPerExample()) : "";
            String length = config.epochs() > 0 && config.maxSteps() == 0
                    ? " (" + config.epochs() + (config.epochs() == 1 ? " epoch)" : " epochs)") : "";
            return String.format(Locale.ROOT, "B=%d × K=%d = effective %d examples%s; %d steps%s",
                    config.microBatch(), config.accumulationSteps(), config.effectiveBatch(), perStep, planned,
                    length);
        }

        private Map<String, String> describe(Model<I> model, long planned) {
            Map<String, String> d = new LinkedHashMap<>();
            d.put("task", task.description());
            d.put("model", task.modelLine(model));
            d.put("parameters", String.format(Locale.ROOT, "%,d", model.parameters().size()));
            d.put("micro-batch B", Integer.toString(config.microBatch()));
            d.put("accumulation K", Integer.toString(config.accumulationSteps()));
            d.put("effective batch N", Integer.toString(config.effectiveBatch()));
            if (task.unitsPerExample() > 1) {
                d.put("tokens per step", String.format(Locale.ROOT, "%,d",
                        (long) config.effectiveBatch() * task.unitsPerExample()));
            }
            d.put("steps", Long.toString(planned));
            if (plan != null) {
                d.put("memory plan", opts.memory + ": predicted peak " + Progress.bytes(plan.totalBytes())
                        + ", activations " + Progress.bytes(plan.activationBytes()) + ", -Xmx" + heapMiB() + "m");
            }
            d.put("optimizer", config.optimizer() + " lr " + config.lr() + " wd " + config.weightDecay());
            d.put("schedule", config.schedule() + " warmup " + config.warmupSteps() + " min lr " + config.minLr());
            d.put("clip", Double.toString(config.clipNorm()));
            d.put("threads", Integer.toString(config.threads()));
            d.put("seed", Long.toString(config.seed()));
            if (resumeFrom != null) {
                d.put("resumed from", resumeFrom.dir() + " at step " + resumeFrom.state().step());
            }
            return d;
        }

        private void printConfig(PrintWriter console, Model<I> model, long planned) {
            console.println("accrue train: " + task.description());
            console.println(task.modelLine(model));
            if (plan != null) {
                console.printf(Locale.ROOT, "memory plan for a budget of %s: micro-batch %d × accumulation %d; "
                        + "predicted peak:%n%s%njava heap needed: -Xmx%dm (plan + %s of training data); this JVM's "
                        + "maximum heap: %s%n", opts.memory, plan.microBatch(), plan.accumulation(), plan.breakdown(),
                        heapMiB(), Progress.bytes(dataBytes), Progress.bytes(Runtime.getRuntime().maxMemory()));
            }
            console.println("batch: " + batchLine(planned));
            console.printf(Locale.ROOT, "optimizer %s lr %.3g (%s, warmup %d, min %.3g), weight decay %s, clip %s, "
                            + "%d threads, seed %d%n", config.optimizer().toString().toLowerCase(Locale.ROOT),
                    config.lr(), config.schedule().toString().toLowerCase(Locale.ROOT), config.warmupSteps(),
                    config.minLr(), config.weightDecay(), config.clipNorm(), config.threads(), config.seed());
            console.println("output: " + out + (resumeFrom != null ? " (resuming at step "
                    + resumeFrom.state().step() + ")" : ""));
            console.flush();
        }
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
