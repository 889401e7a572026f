package io.accrue.run;

import io.accrue.data.EnvironmentException;
import io.accrue.models.GptConfig;
import io.accrue.models.Model;
import io.accrue.train.AtomicFiles;
import io.accrue.train.Checkpoint;
import io.accrue.train.DiskSpace;
import io.accrue.train.GradientSync;
import io.accrue.train.HuggingFaceGpt2;
import io.accrue.train.Json;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryUsage;
import io.accrue.train.MicroBatchLanes;
import io.accrue.train.StepListener;
import io.accrue.train.StepMetrics;
import io.accrue.train.TrainConfig;
import io.accrue.train.TrainResult;
import io.accrue.train.Trainer;
import io.accrue.train.TrainerState;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Executes a {@link RunSpec}: builds the task's model and a {@link Trainer}, resumes from a checkpoint (or starts from
 * a Hugging Face GPT-2's weights, {@link RunSpec#initFrom}), and owns the
 * run directory — {@code metrics.jsonl} (one line per optimizer step, {@link MetricsLog}), {@code checkpoint/}
 * (every {@link RunSpec#checkpointEvery} steps, every {@link RunSpec#checkpointMinutes} minutes of training — then
 * possibly between two micro-batches of a window — at the end and on {@link #stop}, with the spec; the last two
 * kept), {@code results.json} — while a {@link RunListener} shows progress; {@link #logTo} adds other destinations of
 * the per-step rows ({@link MetricsSchema}: CSV, TensorBoard). A front end draws what it likes from the {@link RunResult} (the command line
 * writes {@code report.html}).
 *
 * <pre>{@code
 * RunSpec spec = RunSpec.builder(TaskKind.TEXT).data(Path.of("book.txt")).model("tiny")
 *         .train(t -> t.maxSteps(200)).out(Path.of("runs/book")).build();
 * RunResult result = Run.prepare(spec, null).execute(RunListener.NONE);
 * }</pre>
 *
 * <p>Call order: {@link #prepare} (validates, loads the data, plans memory; writes nothing but a text file's tokens
 * prepared on the fly), optionally {@link #gradientSync} and {@link #logTo}, then {@link #execute} once.
 *
 * @param <I> the micro-batch type
 */
public final class Run<I> {
    /** The run directory's checkpoint subdirectory. */
    public static final String CHECKPOINT_DIR = "checkpoint";
    /** Steps whose median time estimates the time left. */
    private static final int ETA_STEPS = 20;
    /** The run directory's checkpoint with the lowest validation loss so far (runs that validate). */
    public static final String BEST_CHECKPOINT_DIR = "checkpoint-best";

    private final RunSpec spec;
    private final Task<I> task;
    private final MemoryPlan plan;
    private final Checkpoint resumeFrom;
    /** The Hugging Face model a new run starts from ({@link RunSpec#initFrom}), or null. */
    private final HuggingFaceGpt2 initFrom;
    private GradientSync sync = GradientSync.SINGLE;
    private final List<MetricsLogger> loggers = new ArrayList<>();
    private volatile Trainer<I> trainer;
    private volatile boolean stopRequested;

    private Run(RunSpec spec, Task<I> task, MemoryPlan plan, Checkpoint resumeFrom, HuggingFaceGpt2 initFrom) {
        this.initFrom = initFrom;
        this.spec = spec;
        this.task = task;
        this.plan = plan;
        this.resumeFrom = resumeFrom;
    }

    /**
     * Validates {@code spec} against its data (and {@code resumeFrom}, when given: the same data and model), plans
     * memory under a budget (B and K from the plan) and returns the run, nothing written (but see
     * {@link #prepare(RunSpec, Checkpoint, Prepare.Listener)}) and no model allocated.
     *
     * @throws IllegalArgumentException one line naming the problem: missing data, a budget not even micro-batch 1
     *                                  fits, a checkpoint of another model or data
     */
    public static Run<?> prepare(RunSpec spec, Checkpoint resumeFrom) {
        return prepare(spec, resumeFrom, Prepare.Listener.NONE);
    }

    /**
     * {@link #prepare(RunSpec, Checkpoint)}; a text file with a tokenizer other than bytes is first prepared into
     * {@code <out>/data} (the one thing written here, and reused when it is already there), followed by
     * {@code preparing}.
     */
    public static Run<?> prepare(RunSpec spec, Checkpoint resumeFrom, Prepare.Listener preparing) {
        HuggingFaceGpt2 initFrom = resumeFrom == null && spec.initFrom() != null ? imported(spec) : null;
        return prepare(spec, spec.loadTask(preparing), resumeFrom, initFrom);
    }

    /** The model {@code --init-from} names, its weights' headers checked against the spec's shape. */
    private static HuggingFaceGpt2 imported(RunSpec spec) {
        HuggingFaceGpt2 hf = HuggingFaceGpt2.open(spec.initFrom());
        GptConfig want = spec.gpt().withDropout(0f);
        if (!hf.config().withContext(want.context()).equals(want) || want.context() > hf.config().context()) {
            throw new IllegalArgumentException("--init-from " + spec.initFrom() + " holds a model of " + hf.config()
                    + ", the run describes " + want + "; start the run from that directory's own config");
        }
        return hf;
    }

    private static <I> Run<I> prepare(RunSpec spec, Task<I> task, Checkpoint resumeFrom, HuggingFaceGpt2 initFrom) {
        if (Files.exists(spec.out()) && !Files.isDirectory(spec.out())) {
            throw new IllegalArgumentException("--out " + spec.out() + " is a file; give a directory (it is created "
                    + "if missing)");
        }
        checkWritable(spec.out());
        boolean autoLanes = spec.train().concurrentMicroBatches() == TrainConfig.AUTO_CONCURRENT;
        RunSpec planned = autoLanes ? spec.withTrain(spec.train().withConcurrentMicroBatches(1)) : spec;
        MemoryPlan plan = task.plan(planned.train(), spec.memoryBudget());
        if (spec.memoryBudget() > 0) {
            planned = planned.withTrain(planned.train().withBatch(plan.microBatch(), plan.accumulation()));
        }
        if (autoLanes && plan != null) {
            TrainConfig one = planned.train();
            long budget = spec.memoryBudget() > 0 ? spec.memoryBudget() : MachineMemory.bytes();
            long rest = task.dataBytes() + task.evaluationBytes();
            int lanes = MicroBatchLanes.choose(one.threads(), one.accumulationSteps(), task.shapes().mixesExamples(),
                    plan.activationBytes(),
                    n -> task.plan(one.withConcurrentMicroBatches(n), 0).totalBytes() + rest <= budget);
            if (lanes > 1) {
                planned = planned.withTrain(one.withConcurrentMicroBatches(lanes));
                plan = task.plan(planned.train(), 0);
            }
        }
        int examples = task.train().size();
        if (planned.train().microBatch() > examples) {
            throw new IllegalArgumentException("--micro-batch " + planned.train().microBatch() + " exceeds the "
                    + examples + " training examples; use --micro-batch ≤ " + examples + " or more data");
        }
        if (resumeFrom != null) {
            if (resumeFrom.run() != null) {
                ResumeCheck.check(resumeFrom, RunSpec.fromCheckpoint(resumeFrom), planned);
            }
            checkCompatible(resumeFrom, task); // the data's content too
        }
        return new Run<>(planned, task, plan, resumeFrom, initFrom);
    }

    /** The spec as it runs: with a memory budget, B and K are the plan's. */
    public RunSpec spec() {
        return spec;
    }

    /** The task with its data loaded. */
    public Task<I> task() {
        return task;
    }

    /** The memory plan of this run's B and K (chosen by it under a budget); null if the model cannot be planned. */
    public MemoryPlan plan() {
        return plan;
    }

    /**
     * The Java heap in MiB (-Xmx) the plan needs, with the training data, the evaluation's activations and headroom
     * ({@link MemoryPlan#xmxMiB}).
     */
    public long heapMiB() {
        return MemoryPlan.xmxMiB(plan.heapBytes() + task.dataBytes() + task.evaluationBytes());
    }

    /** The predicted peak of the whole process: the plan, the training data and the evaluation's activations. */
    public long plannedBytes() {
        return plan.totalBytes() + task.dataBytes() + task.evaluationBytes();
    }

    /** Combines gradient sums across workers at each step boundary (data parallelism); one worker by default. */
    public Run<I> gradientSync(GradientSync sync) {
        this.sync = sync;
        return this;
    }

    /** Also logs every step's row to {@code logger}, which the run opens and closes. */
    public Run<I> logTo(MetricsLogger logger) {
        loggers.add(logger);
        return this;
    }

    /**
     * Asks {@link #execute} to stop after the current micro-batch (from a listener, another thread or a signal
     * handler): it saves a checkpoint there — inside the window, whose gradient sums it holds — and returns.
     */
    public void stop() {
        stopRequested = true;
        Trainer<I> t = trainer;
        if (t != null) {
            t.stop();
        }
    }

    /**
     * Refuses, before anything is written, a run directory that could not be created or written: a part of its path
     * that is a file, or a directory the process may not write (permissions, a read-only file system).
     */
    private static void checkWritable(Path out) {
        Path existing = out.toAbsolutePath();
        while (!Files.exists(existing)) {
            existing = existing.getParent();
        }
        String cannot = "cannot " + (existing.equals(out.toAbsolutePath()) ? "write --out " : "create --out ") + out
                + ": ";
        if (!Files.isDirectory(existing)) {
            throw new EnvironmentException(cannot + existing + " is a file; choose a directory elsewhere");
        }
        if (!Files.isWritable(existing)) {
            throw new EnvironmentException(cannot + existing + " is not writable (permissions or a read-only file "
                    + "system); make it writable or choose another --out");
        }
    }

    private static void checkCompatible(Checkpoint cp, Task<?> task) {
        for (Map.Entry<String, String> e : task.identity().entrySet()) {
            String saved = cp.metadata().get(e.getKey());
            if (e.getValue().equals(saved)) {
                continue;
            }
            if (e.getKey().equals("model_config")) {
                throw new IllegalArgumentException("--resume " + cp.dir() + ": the checkpoint is of model " + saved
                        + ", these options give " + e.getValue() + "; resume with the original options");
            }
            throw new IllegalArgumentException("--resume " + cp.dir() + ": the checkpoint was trained with "
                    + e.getKey() + "=" + saved + ", these options give " + e.getValue()
                    + "; resume with the original data");
        }
    }

    /**
     * Trains until the planned steps are done or {@link #stop} is called, then saves the checkpoint and
     * {@code results.json}.
     *
     * @throws IOException when the run directory cannot be written
     */
    public RunResult execute(RunListener listener) throws IOException {
        try (Trainer<I> t = newTrainer()) {
            trainer = t;
            if (stopRequested) {
                t.stop();
            }
            return new Execution(t, listener).run();
        } finally {
            trainer = null;
        }
    }

    /**
     * The trainer {@link #execute} trains with: the task's model, the planned arena, the {@link #gradientSync}, and the
     * checkpoint's weights, optimizer state, gradients and position restored. A data-parallel replica trains its own
     * with {@link Trainer#fit} in step with a replica that executes the run (and alone writes the run directory). The
     * caller closes it.
     */
    public Trainer<I> newTrainer() {
        TrainConfig config = spec.train();
        Model<I> model = task.model(config.seed());
        long arenaFloats = plan != null ? plan.activationBytes() / Float.BYTES : 0;
        Trainer<I> t = new Trainer<>(config, model, task.train(), arenaFloats);
        t.gradientSync(sync);
        try {
            if (resumeFrom != null) {
                resumeFrom.restoreWeights(model.parameters());
                resumeFrom.restoreOptimizer(t.optimizer(), model.parameters());
                resumeFrom.restoreGradients(model.parameters());
                t.restore(resumeFrom.state());
            } else if (initFrom != null) {
                initFrom.restore(model.parameters());
            }
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** One execution's state: the trainer, the listener, the history the result and the report are drawn from. */
    private final class Execution implements StepListener {
        private final Trainer<I> trainer;
        private final RunListener listener;
        private final long planned;
        private final long firstStep;
        /** Examples of the first window done before a resume: not part of its time here. */
        private final int resumedExamples;
        private final Path checkpointDir = spec.out().resolve(CHECKPOINT_DIR);
        private final Checkpoint.Metadata meta;
        private final List<StepMetrics> history = new ArrayList<>();
        private final List<RunResult.Eval> evals = new ArrayList<>();
        private final Runtime rt = Runtime.getRuntime();
        private Task.Evaluation lastEval;
        private double evalSeconds;
        private final Path bestDir = spec.out().resolve(BEST_CHECKPOINT_DIR);
        private double best = Double.NaN;
        private long bestStep;
        private long peakHeap;
        /** The last steps' seconds, a ring, for the ETA. */
        private final double[] recentSeconds = new double[ETA_STEPS];
        private int recentCount;
        private long startNanos;
        private MetricsLog metrics;
        private Loggers logged;
        /** When the last checkpoint was saved (or training started), for {@link RunSpec#checkpointMinutes}. */
        private volatile long lastCheckpointNanos;
        /** The state the newest checkpoint holds: saving it again would add nothing. */
        private TrainerState lastSaved;

        Execution(Trainer<I> trainer, RunListener listener) {
            this.trainer = trainer;
            this.listener = listener;
            this.planned = trainer.plannedSteps();
            this.firstStep = trainer.state().step();
            this.resumedExamples = trainer.state().windowExamples();
            Map<String, String> strings = new LinkedHashMap<>(task.identity());
            strings.putAll(task.metadata());
            if (spec.tokenizer() != null) {
                strings.putIfAbsent(HuggingFaceGpt2.TOKENIZER_KEY, spec.tokenizer());
            }
            this.meta = new Checkpoint.Metadata(strings, RunSpecJson.toMap(spec), spec.gpt());
            this.lastSaved = resumeFrom != null ? resumeFrom.state() : null;
            if (resumeFrom != null) {
                readBest();
            }
        }

        /** The best value so far of a resumed run, from its {@code checkpoint-best/} sidecar (if it has one). */
        private void readBest() {
            Path sidecar = bestDir.resolve(Checkpoint.SIDECAR);
            if (!Files.isRegularFile(sidecar)) {
                return;
            }
            try {
                if (Json.parse(Files.readString(sidecar)) instanceof Map<?, ?> j
                        && j.get("metadata") instanceof Map<?, ?> m && m.get("best_value") instanceof String v
                        && m.get("best_step") instanceof String at) {
                    best = Double.parseDouble(v);
                    bestStep = Long.parseLong(at);
                }
            } catch (IOException | IllegalArgumentException e) {
                // unreadable: the next evaluation starts a new best
            }
        }

        /**
         * Trains, saves the last checkpoint and writes {@code results.json}.
         *
         * @throws EnvironmentException a fault of the machine (a full disk, data changed under the run), saying which
         *                              complete checkpoint a resume continues from
         */
        RunResult run() throws IOException {
            describe().forEach(listener::line);
            try {
                Files.createDirectories(spec.out());
            } catch (IOException e) {
                throw EnvironmentException.of("create", spec.out(), e);
            }
            startNanos = System.nanoTime();
            lastCheckpointNanos = startNanos;
            try {
                warnIfLowOnSpace();
                TrainResult result;
                long resumedAfter = resumeFrom != null ? resumeFrom.state().step() : -1;
                try (MetricsLog log = new MetricsLog(spec.out().resolve("metrics.jsonl"), resumedAfter);
                     Loggers others = new Loggers(loggers);
                     Warnings warnings = Warnings.to(listener::line)) {
                    metrics = log;
                    others.open(MetricsSchema.columns(rateKey(), task.metric(), sync.lastStepMetrics().keySet()),
                            resumedAfter);
                    logged = others;
                    trainer.addListener(this);
                    listener.started(planned, firstStep, task.unit());
                    try {
                        result = trainer.fit();
                    } catch (UncheckedIOException e) {
                        throw e.getCause();
                    } finally {
                        listener.finished();
                    }
                    warnings.printMissed(result.warnings(), listener::line);
                }
                save(trainer.state());
                return summary(result);
            } catch (EnvironmentException e) {
                throw e.then(resumable());
            }
        }

        /** Where a resume after a fault continues from: the newest complete checkpoint. */
        private String resumable() {
            if (lastSaved == null) {
                return "no checkpoint was written yet: start the run again once that is fixed";
            }
            return "the newest complete checkpoint, at step " + lastSaved.step() + (lastSaved.windowOpen() ? " + "
                    + lastSaved.windowExamples() + " examples" : "") + ", is in " + checkpointDir
                    + ": once that is fixed, resume with accrue train --resume " + spec.out();
        }

        /** Saves {@code state} as the newest checkpoint, unless it already is. */
        private void save(TrainerState state) throws IOException {
            if (state.equals(lastSaved)) {
                return;
            }
            Checkpoint.save(checkpointDir, trainer.model().parameters(), trainer.optimizer(), state, meta,
                    listener::checkpointWriting);
            lastSaved = state;
            lastCheckpointNanos = System.nanoTime();
            warnIfLowOnSpace();
        }

        /**
         * Warns, at the start and after each checkpoint, when the run directory's file system has less free space
         * than the next checkpoint needs: the run would stop there.
         */
        private void warnIfLowOnSpace() {
            // a checkpoint by time may fall inside a window, and then holds the gradient sums too
            long next = Checkpoint.bytes(trainer.model().parameters(), trainer.optimizer(),
                    spec.checkpointMinutes() > 0);
            long free = DiskSpace.usable(spec.out());
            if (free < next) {
                listener.line("warning: " + spec.out() + " has " + bytes(free) + " free, and the next checkpoint "
                        + "needs " + bytes(next) + " (the last two are kept: " + bytes(2 * next) + "); free space "
                        + "before then, or the run stops at that checkpoint");
            }
        }

        /** Whether {@link RunSpec#checkpointMinutes} have passed since the last checkpoint. */
        private boolean checkpointTimeDue() {
            return spec.checkpointMinutes() > 0
                    && System.nanoTime() - lastCheckpointNanos >= spec.checkpointMinutes() * 60e9;
        }

        private String rateKey() {
            return task.unit().equals("tok") ? "tokens_per_s" : "images_per_s";
        }

        @Override
        public void onMicroBatch(long step, int micro, int k) {
            listener.microBatch(step, micro, k);
            if (micro < k - 1 && checkpointTimeDue()) {
                trainer.pause(); // checkpointed in onPause, inside the window; after its last micro-batch, in onStep
            }
        }

        @Override
        public void onPause(TrainerState state) {
            try {
                save(state);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void onStep(StepMetrics m) {
            history.add(m);
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            int examples = m.examples() - (m.step() == firstStep ? resumedExamples : 0);
            double rate = examples * (double) task.unitsPerExample() / m.seconds();
            MemoryUsage memory = trainer.memoryUsage();
            long heap = rt.totalMemory() - rt.freeMemory();
            peakHeap = Math.max(peakHeap, heap);
            long done = m.step() + 1;
            double eta = eta(m, planned - done);
            StepReport report = new StepReport(m, memory, heap, rate, elapsed, eta);
            listener.step(report);
            Map<String, Object> extra = new LinkedHashMap<>();
            boolean epochEnd = trainer.state().cursor() >= task.train().size();
            boolean due = spec.evalEvery() > 0 && done % spec.evalEvery() == 0;
            Task.Evaluation newBest = null;
            if (done >= planned || epochEnd && task.evaluatesEachEpoch() || due) {
                String when = epochEnd ? "after epoch " + (m.epoch() + 1) + " (step " + done + ")"
                        : "after step " + done;
                Task.Evaluation ev = task.evaluate(trainer, when, listener::line);
                if (ev != null) {
                    lastEval = ev;
                    evalSeconds += ev.seconds();
                    evals.add(new RunResult.Eval(m.epoch() + 1, done, ev.metric(), ev.value()));
                    extra.put(ev.metric(), ev.value());
                    if (ev.keepLowest() && Double.isFinite(ev.value()) && (Double.isNaN(best) || ev.value() < best)) {
                        best = ev.value();
                        bestStep = done;
                        newBest = ev;
                    }
                }
            }
            extra.putAll(sync.lastStepMetrics());
            try {
                Map<String, Object> row = MetricsSchema.row(report, epochsSeen(), rateKey(), extra);
                metrics.write(row);
                logged.log(row);
                if (newBest != null) {
                    Map<String, String> strings = new LinkedHashMap<>(meta.strings());
                    strings.put("best_metric", newBest.metric());
                    strings.put("best_value", Double.toString(newBest.value()));
                    strings.put("best_step", Long.toString(done));
                    Checkpoint.save(bestDir, trainer.model().parameters(), trainer.optimizer(), trainer.state(),
                            meta.withStrings(strings));
                    listener.line(String.format(Locale.ROOT, "best %s so far: checkpoint in %s", newBest.metric(),
                            bestDir));
                }
                boolean every = spec.checkpointEvery() > 0 && done % spec.checkpointEvery() == 0;
                if ((every || checkpointTimeDue()) && done < planned) {
                    save(trainer.state());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The training data seen so far, in epochs: the trainer's epoch and its position within it. */
        private double epochsSeen() {
            TrainerState s = trainer.state();
            return s.epoch() + (double) s.cursor() / task.train().size();
        }

        /**
         * Seconds left: the median time of this process's recent steps (the first, which compiles the step, left
         * out) times the steps left; NaN until there is one.
         */
        private double eta(StepMetrics m, long stepsLeft) {
            if (m.step() > firstStep) {
                recentSeconds[recentCount++ % recentSeconds.length] = m.seconds();
            }
            if (recentCount == 0) {
                return stepsLeft == 0 ? 0 : Double.NaN;
            }
            double[] s = Arrays.copyOf(recentSeconds, Math.min(recentCount, recentSeconds.length));
            Arrays.sort(s);
            double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
            return median * stepsLeft;
        }

        private RunResult summary(TrainResult result) throws IOException {
            TrainerState end = trainer.state();
            long steps = end.step();
            boolean finished = steps >= planned;
            int windowK = finished ? 0 : trainer.nextWindowMicroBatches();
            double trainSeconds = result.seconds() - evalSeconds;
            String inside = end.windowOpen() ? String.format(Locale.ROOT, " and %d of step %d's %d micro-batches",
                    end.windowExamples() / spec.train().microBatch(), steps + 1, windowK) : "";
            listener.line(String.format(Locale.ROOT, "%s after %d steps%s in %s: final window loss %.4f; checkpoint %s",
                    finished ? "done" : "stopped", steps, inside, clock(trainSeconds), result.finalLoss(),
                    checkpointDir));
            MemoryUsage memory = trainer.memoryUsage();
            listener.line(memorySummary(memory));
            Map<String, Object> results = new LinkedHashMap<>();
            results.put("steps", steps);
            results.put("planned_steps", planned);
            results.put("final_loss", result.finalLoss());
            results.put("train_seconds", trainSeconds);
            results.put("skipped_windows", result.skippedWindows());
            results.put("weights_bytes", memory.weightsBytes());
            results.put("grads_bytes", memory.gradsBytes());
            results.put("optimizer_bytes", memory.optimizerBytes());
            results.put("optimizer_state_bytes", memory.optimizerStateBytes());
            results.put("arena_high_water_bytes", memory.arenaHighWaterBytes());
            results.put("memory_total_bytes", memory.totalBytes());
            results.put("heap_used_peak_bytes", peakHeap);
            results.putAll(sync.facts());
            if (plan != null && spec.memoryBudget() > 0) {
                results.put("planned_total_bytes", plan.totalBytes());
                results.put("planned_activation_bytes", plan.activationBytes());
            }
            if (lastEval != null) {
                results.putAll(lastEval.results());
                results.put("eval_seconds", evalSeconds);
                if (!Double.isNaN(best)) {
                    results.put("best_" + lastEval.metric(), best);
                    results.put("best_step", bestStep);
                    results.put("best_checkpoint", bestDir.toString());
                }
            }
            for (int i = 0; i < result.warnings().size(); i++) {
                results.put("warning" + (i == 0 ? "" : "_" + (i + 1)), result.warnings().get(i));
            }
            AtomicFiles.write(spec.out().resolve("results.json"), Json.write(results, 2) + "\n");
            return new RunResult(spec, finished, steps, planned, results, settings(), List.copyOf(history),
                    List.copyOf(evals), task.unit(), end, windowK);
        }

        private String memorySummary(MemoryUsage m) {
            String name = spec.train().optimizer().toString().toLowerCase(Locale.ROOT);
            String opt = m.optimizerStateBytes().isEmpty() ? name + " state none"
                    : name + " state " + m.optimizerStateBytes().size() + " × "
                    + bytes(m.optimizerStateBytes().getFirst());
            return "memory: weights " + bytes(m.weightsBytes()) + " + gradients " + bytes(m.gradsBytes()) + " + "
                    + opt + " + activation arena high-water " + bytes(m.arenaHighWaterBytes()) + " = "
                    + bytes(m.totalBytes()) + "; JVM heap used at most " + bytes(peakHeap) + " (sampled at step ends)";
        }

        /** The console's account of the configuration, before the first step. */
        private List<String> describe() {
            TrainConfig config = spec.train();
            List<String> lines = new ArrayList<>();
            lines.add("accrue train: " + task.description());
            lines.add(task.modelLine(trainer.model()));
            if (spec.memoryBudget() > 0) {
                lines.add(String.format(Locale.ROOT, "memory plan for a budget of %s: micro-batch %d × accumulation "
                                + "%d; predicted peak:%n%s%njava heap needed: -Xmx%dm (plan + %s of training data%s); "
                                + "this JVM's maximum heap: %s", bytes(spec.memoryBudget()), plan.microBatch(),
                        plan.accumulation(), plan.breakdown(), heapMiB(), bytes(task.dataBytes()),
                        task.evaluationBytes() > 0 ? " + " + bytes(task.evaluationBytes()) + " to evaluate" : "",
                        bytes(Runtime.getRuntime().maxMemory())));
            }
            lines.add("batch: " + batchLine());
            lines.add(String.format(Locale.ROOT, "optimizer %s lr %.3g (%s, warmup %d, min %.3g), weight decay %s, "
                            + "clip %s, %d threads, seed %d", config.optimizer().toString().toLowerCase(Locale.ROOT),
                    config.lr(), config.schedule().toString().toLowerCase(Locale.ROOT), config.warmupSteps(planned),
                    config.minLr(), config.weightDecay(), config.clipNorm(), config.threads(), config.seed()));
            if (resumeFrom != null) {
                lines.addAll(resumeFrom.notes());
            }
            lines.add("output: " + spec.out() + (resumeFrom != null ? " (resuming " + resumeFrom.position() + ")"
                    : ""));
            return lines;
        }

        private String batchLine() {
            TrainConfig config = spec.train();
            String perStep = task.unitsPerExample() > 1 ? String.format(Locale.ROOT, ", %,d tokens per step",
                    (long) config.effectiveBatch() * task.unitsPerExample()) : "";
            String length = config.epochs() > 0 && config.maxSteps() == 0
                    ? " (" + config.epochs() + (config.epochs() == 1 ? " epoch)" : " epochs)") : "";
            return String.format(Locale.ROOT, "B=%d × K=%d = effective %d examples%s; %d steps%s%s",
                    config.microBatch(), config.accumulationSteps(), config.effectiveBatch(), perStep, planned,
                    length, lanes());
        }

        /** Concurrent micro-batches, when more than one runs at once. */
        private String lanes() {
            int n = spec.train().concurrentMicroBatches();
            return n > 1 ? "; " + n + " micro-batches at once" : "";
        }

        /** The settings as the report lists them. */
        private Map<String, String> settings() {
            TrainConfig config = spec.train();
            Map<String, String> d = new LinkedHashMap<>();
            d.put("task", task.description());
            d.put("model", task.modelLine(trainer.model()));
            d.put("parameters", String.format(Locale.ROOT, "%,d", trainer.model().parameters().size()));
            d.put("micro-batch B", Integer.toString(config.microBatch()));
            d.put("accumulation K", Integer.toString(config.accumulationSteps()));
            d.put("effective batch N", Integer.toString(config.effectiveBatch()));
            if (task.unitsPerExample() > 1) {
                d.put("tokens per step", String.format(Locale.ROOT, "%,d",
                        (long) config.effectiveBatch() * task.unitsPerExample()));
            }
            d.put("steps", Long.toString(planned));
            if (spec.memoryBudget() > 0) {
                d.put("memory plan", bytes(spec.memoryBudget()) + ": predicted peak " + bytes(plan.totalBytes())
                        + ", activations " + bytes(plan.activationBytes()) + ", -Xmx" + heapMiB() + "m");
            }
            d.put("optimizer", config.optimizer() + " lr " + config.lr() + " wd " + config.weightDecay());
            d.put("schedule", config.schedule() + " warmup " + config.warmupSteps(planned) + " min lr " + config.minLr());
            d.put("clip", Double.toString(config.clipNorm()));
            d.put("threads", config.threads() + lanes());
            d.put("seed", Long.toString(config.seed()));
            if (resumeFrom != null) {
                d.put("resumed from", resumeFrom.dir() + " " + resumeFrom.position());
            }
            return d;
        }
    }

    /** Seconds as {@code m:ss}, or {@code h:mm:ss} from an hour. */
    public static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** Bytes in binary units with one decimal: {@code 512 B}, {@code 1.5 KiB}, {@code 6.9 MiB}, {@code 1.2 GiB}. */
    public static String bytes(long b) {
        return DiskSpace.bytes(b);
    }

    /** The loggers of {@link #logTo}, opened, fed and closed together. */
    private record Loggers(List<MetricsLogger> all) implements AutoCloseable {
        void open(List<String> columns, long resumedAfter) throws IOException {
            for (MetricsLogger l : all) {
                l.open(columns, resumedAfter);
            }
        }

        void log(Map<String, Object> row) throws IOException {
            for (MetricsLogger l : all) {
                l.log(row);
            }
        }

        @Override
        public void close() throws IOException {
            IOException first = null;
            for (MetricsLogger l : all) {
                try {
                    l.close();
                } catch (IOException e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }
}
