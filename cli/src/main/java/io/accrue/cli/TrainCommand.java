package io.accrue.cli;

import io.accrue.data.AdditionTask;
import io.accrue.models.Decoding;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.optim.LinearScaling;
import io.accrue.train.Checkpoint;
import io.accrue.train.MemoryUsage;
import io.accrue.train.ScheduleKind;
import io.accrue.train.StepListener;
import io.accrue.train.StepMetrics;
import io.accrue.train.TrainConfig;
import io.accrue.train.TrainResult;
import io.accrue.train.Trainer;
import picocli.CommandLine.Command;
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
 * {@code accrue train}: options map onto {@link TrainConfig} and {@link GptConfig}; everything is validated
 * before the output directory is touched. Writes {@code metrics.jsonl} (one JSON line per optimizer step),
 * {@code results.json}, {@code report.html} and the checkpoint directory {@code checkpoint/} into {@code --out}.
 */
@Command(name = "train", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = {"Train a GPT with exact gradient accumulation.",
                "Without --data: a small GPT learns multi-digit addition (\"042+517=9550\", the sum written "
                        + "least-significant digit first) and reports exact-match accuracy on held-out problems.",
                "With --data FILE: a byte-level GPT (V 256) on any UTF-8 text file."})
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME|FILE.json",
            description = "Model shape: adder (2 layers, 4 heads, width 128), tiny, small, gpt2, gpt2-medium, or a "
                    + "JSON file {\"layers\":2,\"heads\":4,\"width\":128,\"context\":64,\"vocab\":256,"
                    + "\"dropout\":0} (vocabulary and context follow the data; the file's context is the default "
                    + "--context of --data). Default: adder, or tiny with --data.")
    String model;

    @Option(names = "--data", paramLabel = "FILE.txt", description = "Train a byte-level model on this text file "
            + "instead of the addition task.")
    Path data;

    @Option(names = "--context", paramLabel = "T", description = "Sequence length for --data. Default: the "
            + "model's context.")
    Integer context;

    @Option(names = "--digits", paramLabel = "D", defaultValue = "3", description = "Digits per operand of the "
            + "addition task.")
    int digits;

    @Option(names = "--train-size", paramLabel = "N", defaultValue = "100000",
            description = "Generated addition problems to train on.")
    int trainSize;

    @Option(names = "--eval-size", paramLabel = "N", defaultValue = "1000",
            description = "Held-out addition problems to measure exact-match accuracy on (0: skip).")
    int evalSize;

    @Option(names = {"-b", "--micro-batch"}, paramLabel = "B", defaultValue = "8",
            description = "Examples per forward/backward pass.")
    int microBatch;

    @Option(names = {"-k", "--accum"}, paramLabel = "K", description = "Micro-batches per optimizer step.")
    Integer accum;

    @Option(names = {"-n", "--effective-batch"}, paramLabel = "N", description = "Examples per optimizer step "
            + "(= K·B). Default: 64 unless --accum is given.")
    Integer effectiveBatch;

    @Option(names = "--lr", paramLabel = "LR", defaultValue = "3e-3", description = "Peak learning rate.")
    double lr;

    @Option(names = "--scale-lr", paramLabel = "BASE_BATCH", description = "Linear scaling rule: --lr is the rate "
            + "for a batch of BASE_BATCH; use lr·N/BASE_BATCH.")
    Integer scaleLr;

    @Option(names = "--min-lr", paramLabel = "LR", description = "Final rate of cosine/linear schedules. "
            + "Default: lr/10.")
    Double minLr;

    @Option(names = "--schedule", paramLabel = "KIND", defaultValue = "cosine",
            description = "Learning-rate schedule: constant, cosine or linear.")
    String schedule;

    @Option(names = "--warmup", paramLabel = "STEPS", description = "Linear warmup steps (cosine, linear). "
            + "Default: 100, at most a tenth of --steps.")
    Integer warmup;

    @Option(names = "--steps", paramLabel = "STEPS", description = "Optimizer steps. Default: 1500 (if no --epochs).")
    Long steps;

    @Option(names = "--epochs", paramLabel = "E", description = "Passes over the data (instead of --steps).")
    Integer epochs;

    @Option(names = "--optimizer", paramLabel = "KIND", defaultValue = "adamw", description = "adamw or sgd.")
    String optimizer;

    @Option(names = "--weight-decay", paramLabel = "WD", defaultValue = "0.01",
            description = "Weight decay on matrices.")
    double weightDecay;

    @Option(names = "--clip", paramLabel = "NORM", defaultValue = "1.0",
            description = "Global gradient-norm clip (Infinity: none).")
    double clip;

    @Option(names = "--dropout", paramLabel = "P", description = "Dropout probability. Default: the --model "
            + "file's, else 0.")
    Float dropout;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: 1 for the adder model (its matrices are too small to "
            + "split), else all cores.")
    Integer threads;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1337",
            description = "Seed of initialisation, data, shuffling and dropout.")
    long seed;

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

    @Override
    public Integer call() throws IOException {
        PrintWriter console = spec.commandLine().getOut();
        Run run = prepare();
        return run.execute(console);
    }

    /** Everything validated, nothing written yet. */
    private Run prepare() {
        if (steps != null && epochs != null) {
            throw new UsageException("--steps " + steps + " and --epochs " + epochs + " exclude each other; give one");
        }
        if (accum != null && effectiveBatch != null && (long) accum * microBatch != effectiveBatch) {
            throw new UsageException("--accum " + accum + " × --micro-batch " + microBatch + " = "
                    + (long) accum * microBatch + " disagrees with --effective-batch " + effectiveBatch
                    + "; give only one of --accum and --effective-batch");
        }
        positive("--micro-batch", microBatch);
        if (accum != null) {
            positive("--accum", accum);
        }
        if (effectiveBatch != null) {
            positive("--effective-batch", effectiveBatch);
        }
        if (checkpointEvery < 0) {
            throw new UsageException("--checkpoint-every must be ≥ 0, got " + checkpointEvery);
        }
        progress = parseEnum(Progress.Mode.class, "--progress", progressOption, "plain, bar or auto");
        ScheduleKind scheduleKind = parseEnum(ScheduleKind.class, "--schedule", schedule, "constant, cosine or linear");
        io.accrue.train.OptimizerKind optimizerKind = parseEnum(io.accrue.train.OptimizerKind.class, "--optimizer",
                optimizer, "adamw or sgd");

        String modelName = model != null ? model : data != null ? "tiny" : ModelSpec.ADDER;
        GptConfig shape = ModelSpec.resolve(modelName);
        Task task;
        if (data != null) {
            int t = context != null ? context : shape.context();
            positive("--context", t);
            task = Task.bytes(data, t);
        } else {
            if (context != null) {
                throw new UsageException("--context applies to --data only; the addition task sets its own length");
            }
            positive("--train-size", trainSize);
            if (evalSize < 0) {
                throw new UsageException("--eval-size must be ≥ 0, got " + evalSize);
            }
            task = Task.addition(digits, trainSize, seed);
        }
        GptConfig gpt = shape.withVocab(task.vocab()).withContext(task.seq())
                .withDropout(dropout != null ? dropout : shape.dropout());

        int warm = warmup != null ? warmup : steps != null ? (int) Math.min(100, steps / 10) : 100;
        if (warmup != null && warmup < 0) {
            throw new UsageException("--warmup must be ≥ 0, got " + warmup);
        }
        if (scheduleKind != ScheduleKind.CONSTANT && steps != null && warm >= steps) {
            throw new UsageException("--warmup " + warm + " must be less than --steps " + steps
                    + "; lower --warmup or use --schedule constant");
        }
        int n = effectiveBatch != null ? effectiveBatch : accum != null ? accum * microBatch : 64;
        double peak = scaleLr == null ? lr : LinearScaling.scale(lr, scaleLr, n);
        TrainConfig.Builder b = TrainConfig.builder().microBatch(microBatch).optimizer(optimizerKind).lr(peak)
                .weightDecay(weightDecay).clipNorm(clip).seed(seed)
                .schedule(scheduleKind, scheduleKind == ScheduleKind.CONSTANT ? 0 : warm,
                        minLr != null ? minLr : scheduleKind == ScheduleKind.CONSTANT ? 0 : peak / 10);
        if (optimizerKind == io.accrue.train.OptimizerKind.SGD) {
            b.momentum(0.9);
        }
        if (accum != null) {
            b.accumulationSteps(accum);
        } else {
            b.effectiveBatch(n);
        }
        if (epochs != null) {
            b.epochs(epochs);
        } else {
            b.maxSteps(steps != null ? steps : 1500);
        }
        if (threads != null) {
            b.threads(threads);
        } else if (ModelSpec.ADDER.equalsIgnoreCase(modelName)) {
            b.threads(1);
        }
        TrainConfig config = b.build();
        if (config.microBatch() > task.data().size()) {
            throw new UsageException("--micro-batch " + config.microBatch() + " exceeds the " + task.data().size()
                    + " training sequences; use --micro-batch ≤ " + task.data().size() + " or more data");
        }

        Checkpoint checkpoint = null;
        Path outDir = out;
        if (resume != null) {
            Path dir = Checkpoint.exists(resume) ? resume : resume.resolve("checkpoint");
            checkpoint = Checkpoint.load(Checkpoint.exists(dir) ? dir : resume);
            checkCompatible(checkpoint, gpt, task);
            if (outDir == null) {
                outDir = dir.equals(resume) ? resume.toAbsolutePath().getParent() : resume;
            }
        }
        if (outDir == null) {
            outDir = Path.of("runs", (data != null ? "text" : "addition") + "-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageException("--out " + outDir + " is a file; give a directory (it is created if missing)");
        }
        if (stopAfter != null) {
            positive("--stop-after", stopAfter);
        }
        return new Run(this, modelName, gpt, config, task, checkpoint, outDir);
    }

    private void checkCompatible(Checkpoint cp, GptConfig gpt, Task task) {
        String want = gpt.toString();
        String had = cp.metadata().get("model_config");
        if (!want.equals(had)) {
            throw new UsageException("--resume " + cp.dir() + ": the checkpoint is of model " + had + ", these options "
                    + "give " + want + "; resume with the original options");
        }
        for (Map.Entry<String, String> e : task.identity().entrySet()) {
            String saved = cp.metadata().get(e.getKey());
            if (!e.getValue().equals(saved)) {
                throw new UsageException("--resume " + cp.dir() + ": the checkpoint was trained with " + e.getKey()
                        + "=" + saved + ", these options give " + e.getValue() + "; resume with the original data");
            }
        }
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String option, String value, String choices) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + ": unknown value '" + value + "'; use " + choices);
        }
    }

    private static void positive(String option, long v) {
        if (v <= 0) {
            throw new UsageException(option + " must be a positive integer, got " + v);
        }
    }

    /** A validated run. */
    private record Run(TrainCommand opts, String modelName, GptConfig gpt, TrainConfig config, Task task,
                       Checkpoint resumeFrom, Path out) {

        int execute(PrintWriter console) throws IOException {
            Gpt model = new Gpt(gpt, config.seed());
            Map<String, String> meta = metadata();
            try (Trainer<io.accrue.models.TokenBatch> trainer = new Trainer<>(config, model, task.data())) {
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
                long startNanos = System.nanoTime();
                try (BufferedWriter metrics = Files.newBufferedWriter(metricsFile, StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        resumeFrom != null ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                    long firstStep = trainer.state().step();
                    long[] peakHeap = {0};
                    Runtime rt = Runtime.getRuntime();
                    Progress progress = Progress.create(opts.progress, console, planned, firstStep);
                    trainer.addListener(new StepListener() {
                        @Override
                        public void onMicroBatch(long step, int micro, int k) {
                            progress.micro(step, micro, k);
                        }

                        @Override
                        public void onStep(StepMetrics m) {
                            history.add(m);
                            double elapsed = (System.nanoTime() - startNanos) / 1e9;
                            double tokensPerSecond = m.examples() * (double) task.seq() / m.seconds();
                            MemoryUsage memory = trainer.memoryUsage();
                            long heap = rt.totalMemory() - rt.freeMemory();
                            peakHeap[0] = Math.max(peakHeap[0], heap);
                            long done = m.step() + 1;
                            double eta = elapsed / (done - firstStep) * (planned - done);
                            progress.step(new Progress.Step(m, memory, heap, tokensPerSecond, elapsed, eta));
                            try {
                                metrics.write(Metrics.json(m, tokensPerSecond, elapsed, memory, heap));
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
                        progress.close();
                    }
                    Checkpoint.save(checkpointDir, model.parameters(), trainer.optimizer(), trainer.state(), meta);
                    boolean finished = trainer.state().step() >= planned;
                    console.printf(Locale.ROOT, "%s after %d steps in %s: final window loss %.4f; checkpoint %s%n",
                            finished ? "done" : "stopped", trainer.state().step(), clock(result.seconds()),
                            result.finalLoss(), checkpointDir);
                    Map<String, Object> results = new LinkedHashMap<>();
                    results.put("steps", trainer.state().step());
                    results.put("planned_steps", planned);
                    results.put("final_loss", result.finalLoss());
                    results.put("train_seconds", result.seconds());
                    results.put("skipped_windows", result.skippedWindows());
                    MemoryUsage memory = trainer.memoryUsage();
                    console.println(memorySummary(memory, peakHeap[0]));
                    results.put("weights_bytes", memory.weightsBytes());
                    results.put("grads_bytes", memory.gradsBytes());
                    results.put("optimizer_bytes", memory.optimizerBytes());
                    results.put("arena_high_water_bytes", memory.arenaHighWaterBytes());
                    results.put("memory_total_bytes", memory.totalBytes());
                    results.put("heap_used_peak_bytes", peakHeap[0]);
                    if (finished && task.addition() != null && opts.evalSize > 0) {
                        Accuracy acc = evaluate(model, trainer, console);
                        results.put("heldout_problems", acc.total());
                        results.put("heldout_exact_match", acc.fraction());
                        results.put("eval_seconds", acc.seconds());
                    }
                    Files.writeString(out.resolve("results.json"), Metrics.object(results) + "\n");
                    try {
                        Path report = Report.write(out, describe(model, planned), results, history);
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

        private record Accuracy(int correct, int total, double seconds) {
            double fraction() {
                return total == 0 ? 0 : (double) correct / total;
            }
        }

        private Accuracy evaluate(Gpt model, Trainer<?> trainer, PrintWriter console) {
            long t0 = System.nanoTime();
            AdditionTask t = task.addition();
            List<long[]> problems = t.heldOut(opts.evalSize, opts.trainSize);
            int correct = 0;
            List<String> shown = new ArrayList<>();
            for (int from = 0; from < problems.size(); from += 250) {
                List<long[]> part = problems.subList(from, Math.min(problems.size(), from + 250));
                int[][] prompts = new int[part.size()][];
                for (int i = 0; i < prompts.length; i++) {
                    prompts[i] = AdditionTask.VOCABULARY.encode(t.prompt(part.get(i)[0], part.get(i)[1]));
                }
                int[][] answers = Decoding.greedy(model, trainer.tape(), prompts, t.answerLength());
                for (int i = 0; i < prompts.length; i++) {
                    long[] p = part.get(i);
                    String got = AdditionTask.VOCABULARY.decode(answers[i]);
                    boolean ok = got.equals(t.answer(p[0], p[1]));
                    correct += ok ? 1 : 0;
                    if (shown.size() < 5) {
                        shown.add(String.format(Locale.ROOT, "  %d + %d = %s (model wrote %s%s, reversed) %s", p[0],
                                p[1], p[0] + p[1], t.prompt(p[0], p[1]), got, ok ? "✓" : "✗"));
                    }
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            shown.forEach(console::println);
            console.printf(Locale.ROOT, "held-out exact match: %d/%d = %.1f%% (greedy decoding, %s)%n", correct,
                    problems.size(), 100.0 * correct / problems.size(), clock(seconds));
            return new Accuracy(correct, problems.size(), seconds);
        }

        private Map<String, String> metadata() {
            Map<String, String> m = new LinkedHashMap<>(task.identity());
            m.put("model", modelName);
            m.put("model_config", gpt.toString());
            m.put("layers", Integer.toString(gpt.layers()));
            m.put("heads", Integer.toString(gpt.heads()));
            m.put("width", Integer.toString(gpt.width()));
            m.put("context", Integer.toString(gpt.context()));
            m.put("vocab", Integer.toString(gpt.vocab()));
            m.put("dropout", Float.toString(gpt.dropout()));
            m.put("train_config", config.toString());
            return m;
        }

        private Map<String, String> describe(Gpt model, long planned) {
            Map<String, String> d = new LinkedHashMap<>();
            d.put("task", task.description());
            d.put("model", modelName + " " + gpt);
            d.put("parameters", String.format(Locale.ROOT, "%,d", model.parameters().size()));
            d.put("micro-batch B", Integer.toString(config.microBatch()));
            d.put("accumulation K", Integer.toString(config.accumulationSteps()));
            d.put("effective batch N", Integer.toString(config.effectiveBatch()));
            d.put("tokens per step", String.format(Locale.ROOT, "%,d", (long) config.effectiveBatch() * task.seq()));
            d.put("steps", Long.toString(planned));
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

        private void printConfig(PrintWriter console, Gpt model, long planned) {
            console.println("accrue train: " + task.description());
            console.printf(Locale.ROOT, "model %s: L=%d NH=%d C=%d T=%d V=%d, %,d parameters%n", modelName,
                    gpt.layers(), gpt.heads(), gpt.width(), gpt.context(), gpt.vocab(), model.parameters().size());
            console.printf(Locale.ROOT, "batch: B=%d × K=%d = effective %d examples, %,d tokens per step; %d steps%n",
                    config.microBatch(), config.accumulationSteps(), config.effectiveBatch(),
                    (long) config.effectiveBatch() * task.seq(), planned);
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
