package io.accrue.train;

import io.accrue.autograd.Loss;
import io.accrue.autograd.MicroBatchOrder;
import io.accrue.autograd.Tape;
import io.accrue.data.Dataset;
import io.accrue.data.EpochOrder;
import io.accrue.data.Window;
import io.accrue.models.Model;
import io.accrue.optim.AdamW;
import io.accrue.optim.GradClip;
import io.accrue.optim.LrSchedule;
import io.accrue.optim.Optimizer;
import io.accrue.optim.Sgd;
import io.accrue.tensor.Arena;
import io.accrue.tensor.gemm.Gemm;
import io.accrue.tensor.Compute;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Trains a model with exact gradient accumulation: one optimizer step per window of K micro-batches, equal
 * bit for bit to the step of one K·B batch.
 *
 * <p>Per micro-batch: forward (records the tape) → backward (adds raw loss-sum gradients into the flat
 * gradient buffer) → arena reset. Per window, at the step boundary: fold tied gradients → divide by the
 * window's count → non-finite guard → clip → optimizer step at the schedule's LR → zero gradients → metrics.
 * Gradients are zeroed only there, after the step.
 *
 * <p>Between two micro-batches of a window, {@link #pause()} hands the open window to the listeners'
 * {@link StepListener#onPause} (to checkpoint it) and goes on, and {@link #stop()} returns from {@link #fit()} with it
 * open; {@link #state()} and the gradient buffer then hold it, and {@link #restore} continues it bit-exactly.
 *
 * @param <I> the micro-batch type
 */
public final class Trainer<I> implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.accrue.train");

    private final TrainConfig config;
    private final Model<I> model;
    private final Dataset<I> data;
    private final Compute compute;
    private final Tape tape;
    /** The tapes of micro-batches run at once, each on one thread ({@link TrainConfig#concurrentMicroBatches}). */
    private final List<Tape> lanes = new ArrayList<>();
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final EpochOrder order;
    private final List<StepListener> listeners = new ArrayList<>();
    private final long plannedSteps;
    private long step;
    private int epoch;
    private int cursor;
    /** The open window: its examples done, their loss sum and count (their gradients are in the buffer). */
    private final Sums open = new Sums();
    private volatile boolean stopRequested;
    private volatile boolean pauseRequested;
    private GradientSync sync = GradientSync.SINGLE;

    public Trainer(TrainConfig config, Model<I> model, Dataset<I> data) {
        this(config, model, data, 0);
    }

    /**
     * A trainer whose activation arena starts with {@code arenaFloats} (the {@link MemoryPlanner}'s prediction),
     * so it never grows in chunks and its footprint is exactly what was planned. With concurrent micro-batches
     * each gets an arena of {@code arenaFloats} / their number. An arena beyond one array's
     * {@link Arena#MAX_CHUNK} floats starts with that chunk and grows by more, as the planner's dry run counted.
     */
    public Trainer(TrainConfig config, Model<I> model, Dataset<I> data, long arenaFloats) {
        this.config = config;
        this.model = model;
        this.data = data;
        if (config.microBatch() > data.size()) {
            throw new IllegalArgumentException("microBatch " + config.microBatch() + " is larger than the dataset ("
                    + data.size() + " examples); use microBatch ≤ " + data.size());
        }
        if (config.dropLast() && config.effectiveBatch() > data.size()) {
            throw new IllegalArgumentException("effectiveBatch " + config.effectiveBatch() + " exceeds the dataset ("
                    + data.size() + " examples) and dropLast is set, so no window would ever be full");
        }
        this.order = new EpochOrder(data.size(), config.seed(), config.shuffle());
        this.plannedSteps = plannedSteps();
        this.compute = new Compute(config.threads());
        int concurrent = config.concurrentMicroBatches();
        if (concurrent == TrainConfig.AUTO_CONCURRENT) {
            throw new IllegalArgumentException("concurrentMicroBatches AUTO_CONCURRENT is chosen against a memory plan "
                    + "before the trainer is built (Run.prepare does, or MicroBatchLanes.choose); give the trainer 1 "
                    + "to threads");
        }
        if (concurrent > 1 && model.mixesExamples()) {
            throw new IllegalArgumentException("concurrentMicroBatches " + concurrent + " needs a model without "
                    + "BatchNorm, whose running statistics every micro-batch updates in turn; use 1");
        }
        long laneFloats = Math.min(arenaFloats / concurrent, Arena.MAX_CHUNK);
        this.tape = new Tape(compute, new Arena(laneFloats));
        for (int i = 0; concurrent > 1 && i < concurrent; i++) {
            Compute lane = compute.lane();
            lanes.add(new Tape(lane, i == 0 ? tape.arena() : new Arena(laneFloats)));
        }
        ParameterStore store = model.parameters();
        this.optimizer = switch (config.optimizer()) {
            case ADAMW -> new AdamW(store, compute.parallel(), (float) config.beta1(), (float) config.beta2(),
                    (float) config.adamEps(), (float) config.weightDecay());
            case SGD -> new Sgd(store, compute.parallel(), (float) config.momentum(), (float) config.weightDecay());
        };
        this.schedule = switch (config.schedule()) {
            case CONSTANT -> LrSchedule.constant(config.lr());
            case COSINE -> LrSchedule.warmupCosine(config.lr(), config.warmupSteps(plannedSteps), plannedSteps, config.minLr());
            case LINEAR -> LrSchedule.warmupLinear(config.lr(), config.warmupSteps(plannedSteps), plannedSteps, config.minLr());
        };
    }

    public Trainer<I> addListener(StepListener listener) {
        listeners.add(listener);
        return this;
    }

    /** Combines gradient sums across workers at each step boundary; {@link GradientSync#SINGLE} by default. */
    public Trainer<I> gradientSync(GradientSync sync) {
        this.sync = sync;
        return this;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public TrainConfig config() {
        return config;
    }

    public Model<I> model() {
        return model;
    }

    public Tape tape() {
        return tape;
    }

    /**
     * Bytes of weights, gradients, optimizer state and the activation arena's high-water mark so far (call
     * between steps).
     */
    public MemoryUsage memoryUsage() {
        return MemoryUsage.of(model.parameters(), tape.compute().gemm().heldWeightFloats(), optimizer,
                arenaHighWaterFloats());
    }

    /**
     * Where training stands: after the last completed step, or — after {@link #stop()} or inside
     * {@link StepListener#onPause} — inside an open window (call between steps or micro-batches, e.g. from a
     * listener).
     */
    public TrainerState state() {
        return new TrainerState(step, epoch, cursor, open.examples, open.lossSum, open.count);
    }

    /**
     * Continues from {@code state}, as saved by {@link #state()}; restore the weights and the optimizer state
     * ({@link Optimizer#restore}) alongside it, and for an open window the gradient buffer too. Call before
     * {@link #fit()}. An open window continues after its done examples, which may be cut into micro-batches of
     * another B than they were (the chains do not depend on the cut, law 3) as long as B divides them.
     *
     * @throws IllegalArgumentException if the state lies beyond this configuration's data or planned steps, or its
     *                                  open window's done examples are not a whole number of micro-batches
     */
    public void restore(TrainerState state) {
        if (state.step() > plannedSteps) {
            throw new IllegalArgumentException("cannot resume at step " + state.step() + ": this run plans only "
                    + plannedSteps + " steps");
        }
        if (state.cursor() > data.size()) {
            throw new IllegalArgumentException("cannot resume at position " + state.cursor() + " of an epoch of "
                    + data.size() + " examples");
        }
        if (state.windowOpen()) {
            if (state.windowExamples() % config.microBatch() != 0) {
                throw new IllegalArgumentException("cannot resume inside a window after " + state.windowExamples()
                        + " examples with micro-batches of " + config.microBatch() + "; use a micro-batch that "
                        + "divides " + state.windowExamples());
            }
            step = state.step();
            int size = windowAfter(state.epoch(), state.cursor()).size();
            if (state.step() >= plannedSteps || state.windowExamples() >= size) {
                throw new IllegalArgumentException("cannot resume after " + state.windowExamples() + " examples of "
                        + "a window of " + size + " at step " + state.step());
            }
        }
        step = state.step();
        epoch = state.epoch();
        cursor = state.cursor();
        open.examples = state.windowExamples();
        open.lossSum = state.windowLossSum();
        open.count = state.windowCount();
    }

    /**
     * Asks {@link #fit()} to return after the current micro-batch (safe from a listener, another thread or a signal
     * handler). The window it is in stays open: {@link #state()} holds it and the gradient buffer its sums, and a
     * checkpoint of both resumes bit-exactly. With a multi-worker {@link GradientSync} it returns after the current
     * step instead.
     */
    public void stop() {
        stopRequested = true;
    }

    /**
     * Asks {@link #fit()} to pause after the current micro-batch — every concurrent micro-batch idle, the gradient
     * buffer holding the sums of the window's micro-batches so far — call each listener's
     * {@link StepListener#onPause} with {@link #state()} (to checkpoint it), and go on (safe from a listener or
     * another thread). Ignored with a multi-worker {@link GradientSync}.
     */
    public void pause() {
        pauseRequested = true;
    }

    /** Micro-batches of the window that {@link #state()} opens next (or is inside). */
    public int nextWindowMicroBatches() {
        int size = windowAfter(epoch, cursor).size();
        return (size + config.microBatch() - 1) / config.microBatch();
    }

    /** Optimizer steps (windows) this configuration runs in total. */
    public long plannedSteps() {
        if (config.epochs() == 0) {
            return config.maxSteps();
        }
        long s = 0;
        int n = data.size();
        for (int e = 0; e < config.epochs(); e++) {
            int pos = 0;
            while (pos < n) {
                int want = config.accumulationStepsAt(s, e) * config.microBatch();
                if (n - pos < want && config.dropLast()) {
                    break;
                }
                pos += Math.min(want, n - pos);
                s++;
            }
        }
        return config.maxSteps() > 0 ? Math.min(s, config.maxSteps()) : s;
    }

    /**
     * Runs windows until the planned steps are done (or {@link #stop()} is called) and returns the totals of this
     * call. After a stop inside a window, {@link #state()} holds the open window.
     */
    public TrainResult fit() {
        long t0 = System.nanoTime();
        List<String> warnings = startWarnings();
        long steps = 0;
        long examples = 0;
        long count = 0;
        long skipped = 0;
        double lastLoss = Double.NaN;
        long windows = 0;
        while (step < plannedSteps && !stopRequested) {
            StepMetrics m = trainWindow(windowAfter(epoch, cursor));
            if (m == null) {
                break; // stopped inside the window, which stays open in state()
            }
            windows++;
            examples += m.examples();
            count += m.count();
            if (m.skipped()) {
                skipped++;
            } else {
                steps++;
                lastLoss = m.loss();
            }
        }
        return new TrainResult(steps, windows, examples, count, skipped, lastLoss, (System.nanoTime() - t0) / 1e9,
                warnings);
    }

    private List<String> startWarnings() {
        List<String> warnings = new ArrayList<>();
        boolean accumulates = config.accumulationSteps() > 1 || (config.accumulationSchedule() != null
                && config.accumulationSchedule().changes().values().stream().anyMatch(k -> k > 1));
        if (model.mixesExamples() && accumulates) {
            String w = "model has BatchNorm and accumulates K > 1 micro-batches: its statistics are per micro-batch of "
                    + config.microBatch() + ", so the step is not equivalent to one batch of " + config.effectiveBatch()
                    + "; use GroupNorm or LayerNorm for exact accumulation";
            LOG.log(System.Logger.Level.WARNING, w);
            warnings.add(w);
        }
        return warnings;
    }

    /**
     * The examples of optimizer step {@link #step} after position ({@code epoch}, {@code cursor}): the next N of the
     * epoch's keyed order, from the next epoch once this one is used up (or its last partial window dropped). A
     * pure function of the position, so a resumed trainer cuts the same window.
     */
    private Window windowAfter(int epoch, int cursor) {
        int n = data.size();
        while (true) {
            if (cursor >= n) {
                epoch++;
                cursor = 0;
            }
            int want = config.accumulationStepsAt(step, epoch) * config.microBatch();
            int size = Math.min(want, n - cursor);
            if (size < want && config.dropLast()) {
                cursor = n;
                continue;
            }
            return new Window(epoch, cursor, Arrays.copyOfRange(order.order(epoch), cursor, cursor + size));
        }
    }

    /**
     * Forward/backward over this process's micro-batches of the window, the workers' sums, the step boundary; null
     * when {@link #stop()} ended it inside the window, which then stays open. A window already open (restored from a
     * checkpoint taken inside it, its sums in the buffer) is finished here whole, without the {@link GradientSync}:
     * replicas resumed from the same checkpoint each compute the same bits, those of one machine.
     */
    private StepMetrics trainWindow(Window window) {
        long t0 = System.nanoTime();
        List<int[]> micro = window.microBatches(config.microBatch());
        GradientSync.Totals all;
        if (sync == GradientSync.SINGLE || open.examples > 0) {
            int done = open.examples / config.microBatch();
            while ((done = run(window.epoch(), micro, done, true, open)) < micro.size()) {
                pauseRequested = false;
                if (stopRequested) {
                    return null;
                }
                TrainerState paused = state();
                for (StepListener l : listeners) {
                    l.onPause(paused);
                }
            }
            all = new GradientSync.Totals(open.lossSum, open.count);
        } else {
            GradientSync.Totals local = accumulate(window.epoch(), sync.local(micro));
            all = sync.sum(model.parameters(), window.epoch(), micro, local);
        }
        StepMetrics m = stepBoundary(window, micro.size(), all.lossSum(), all.count(), t0);
        epoch = window.epoch();
        cursor = window.start() + window.size();
        open.examples = 0;
        open.lossSum = 0;
        open.count = 0;
        step++;
        for (StepListener l : listeners) {
            l.onStep(m);
        }
        return m;
    }

    /** The running totals of micro-batches done: examples, loss sum (a chain in micro-batch order) and count. */
    private static final class Sums {
        int examples;
        double lossSum;
        long count;
    }

    /**
     * {@link #accumulate(int, List)} for epoch 0.
     */
    public GradientSync.Totals accumulate(List<int[]> microBatches) {
        return accumulate(0, microBatches);
    }

    /**
     * Forward and backward of each micro-batch in order, adding raw loss-sum gradients into the gradient buffer
     * (which is not zeroed here); returns the loss sum and count. {@code epoch} keys dropout (law 5). The step
     * boundary is not taken: a data-parallel worker calls this for its share of a window and hands the buffer to
     * {@link GradientSync#sum}.
     */
    public GradientSync.Totals accumulate(int epoch, List<int[]> microBatches) {
        Sums sums = new Sums();
        run(epoch, microBatches, 0, false, sums);
        return new GradientSync.Totals(sums.lossSum, sums.count);
    }

    /**
     * Micro-batches {@code from}.. of {@code micro}, adding into the gradient buffer and {@code sums}; returns the
     * index of the first one not run: {@code micro.size()}, or where a pause or stop cut the window when
     * {@code pausable}.
     */
    private int run(int epoch, List<int[]> micro, int from, boolean pausable, Sums sums) {
        if (!lanes.isEmpty() && micro.size() - from > 1) {
            return runConcurrently(epoch, micro, from, pausable, sums);
        }
        tape.setTraining(true);
        tape.setEpoch(epoch);
        // The weights do not change before the step boundary: the forward and backward pack each once a window.
        Gemm gemm = tape.compute().gemm();
        gemm.holdWeights(micro.size() - from > 1);
        try {
            for (int i = from; i < micro.size(); i++) {
                if (pausable && (pauseRequested || stopRequested)) {
                    return i;
                }
                int[] batch = micro.get(i);
                Loss loss = model.loss(tape, data.batch(batch));
                Tensor rows = loss.rows();
                for (int r = 0; r < rows.size(); r++) {
                    sums.lossSum += rows.get(r);
                }
                sums.count += loss.count();
                sums.examples += batch.length;
                tape.backward();
                tape.reset();
                for (StepListener l : listeners) {
                    l.onMicroBatch(step, i, micro.size());
                }
            }
        } finally {
            gemm.holdWeights(false);
        }
        return micro.size();
    }

    /**
     * Where concurrent micro-batches may stop: micro-batches are claimed before their forward; once a pause is
     * wanted, the cut falls after the highest one claimed, so every micro-batch before it runs to the end (each
     * backward step waits only for lower ones) and none after it starts.
     */
    private static final class Cut {
        private final int size;
        private int end;
        private int maxClaimed;

        Cut(int size, int from) {
            this.size = size;
            this.end = size;
            this.maxClaimed = from - 1;
        }

        synchronized boolean claim(int microBatch, boolean pauseWanted) {
            if (pauseWanted && end == size) {
                end = maxClaimed + 1;
            }
            if (microBatch >= end) {
                return false;
            }
            maxClaimed = Math.max(maxClaimed, microBatch);
            return true;
        }

        synchronized int end() {
            return end;
        }
    }

    /**
     * {@link #run} with micro-batch i on lane (i − from) mod L, the lanes at once (lane 0 on the calling thread):
     * their backward steps and loss sums go in micro-batch order ({@link MicroBatchOrder}), so the gradient
     * buffer and the loss get the same bits as one micro-batch at a time.
     */
    private int runConcurrently(int epoch, List<int[]> micro, int from, boolean pausable, Sums sums) {
        MicroBatchOrder order = new MicroBatchOrder(lanes.size());
        Cut cut = new Cut(micro.size(), from);
        Throwable[] failure = new Throwable[lanes.size()];
        Runnable[] runs = new Runnable[lanes.size()];
        Thread[] threads = new Thread[lanes.size()];
        for (int l = 0; l < lanes.size(); l++) {
            int lane = l;
            runs[l] = () -> {
                try {
                    runLane(lane, epoch, micro, from, order, cut, pausable, sums);
                } catch (Throwable t) {
                    failure[lane] = t;
                    order.abort();
                }
            };
        }
        for (int l = 1; l < lanes.size(); l++) {
            threads[l] = Thread.ofPlatform().name("accrue-lane-" + l).start(runs[l]);
        }
        runs[0].run();
        try {
            for (int l = 1; l < threads.length; l++) {
                threads[l].join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            order.abort();
            throw new IllegalStateException("interrupted while micro-batches ran", e);
        } finally {
            for (Tape lane : lanes) { // only now: a lane done early must not mark panels stale under the others
                lane.compute().gemm().holdWeights(false);
            }
        }
        for (Throwable t : failure) {
            if (t != null && !(t instanceof MicroBatchOrder.Aborted)) {
                if (t instanceof RuntimeException r) {
                    throw r;
                }
                if (t instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException(t);
            }
        }
        return cut.end();
    }

    /**
     * Lane {@code lane}'s micro-batches of the window: forward, backward in order, loss added in order. Micro-batch
     * i is number i − from of this run for the {@link MicroBatchOrder}: the ones before {@code from} are done.
     */
    private void runLane(int lane, int epoch, List<int[]> micro, int from, MicroBatchOrder order, Cut cut,
                         boolean pausable, Sums sums) {
        Tape t = lanes.get(lane);
        t.setTraining(true);
        t.setEpoch(epoch);
        t.compute().gemm().holdWeights(true);
        for (int i = from + lane; i < micro.size(); i += lanes.size()) {
            if (!cut.claim(i, pausable && (pauseRequested || stopRequested))) {
                return;
            }
            int j = i - from;
            int[] batch = micro.get(i);
            Loss loss = model.loss(t, data.batch(batch));
            t.backward(order, j);
            order.awaitTurn(j);
            Tensor rows = loss.rows();
            for (int r = 0; r < rows.size(); r++) {
                sums.lossSum += rows.get(r);
            }
            sums.count += loss.count();
            sums.examples += batch.length;
            for (StepListener l : listeners) {
                l.onMicroBatch(step, i, micro.size());
            }
            order.endTurn(j);
            t.reset();
        }
    }

    /** The activation arenas' high-water marks, summed over concurrent micro-batches' arenas. */
    private long arenaHighWaterFloats() {
        long floats = tape.arena().highWaterFloats();
        for (int i = 1; i < lanes.size(); i++) {
            floats += lanes.get(i).arena().highWaterFloats();
        }
        return floats;
    }

    private StepMetrics stepBoundary(Window window, int k, double lossSum, long count, long startNanos) {
        ParameterStore store = model.parameters();
        store.foldTiedGradients();
        boolean finite = count > 0 && Double.isFinite(lossSum) && normalize(store, count);
        double lr = schedule.lr(step);
        double norm = Double.NaN;
        if (finite) {
            norm = Double.isInfinite(config.clipNorm()) ? GradClip.globalNorm(store, compute.parallel())
                    : GradClip.clipGlobalNorm(store, (float) config.clipNorm(), compute.parallel());
            optimizer.step((float) lr);
        } else {
            LOG.log(System.Logger.Level.WARNING, "step " + step + ": non-finite loss or gradient (or no counted "
                    + "examples); window skipped, weights and optimizer state untouched");
        }
        store.zeroGrad(compute.parallel());
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        return new StepMetrics(step, window.epoch(), k, window.size(), count, lossSum / count, lr, norm, !finite,
                seconds, arenaHighWaterFloats());
    }

    /** Divides the summed gradients by the window's count (law 2); false if any gradient is NaN or infinite. */
    private boolean normalize(ParameterStore store, long count) {
        float[] g = store.grads();
        float c = count;
        int n = store.size();
        AtomicBoolean finite = new AtomicBoolean(true);
        compute.parallel().forRange(n, 1 << 14, (from, to) -> {
            boolean ok = true;
            for (int i = from; i < to; i++) {
                float v = g[i] / c;
                g[i] = v;
                ok &= Float.isFinite(v);
            }
            if (!ok) {
                finite.set(false);
            }
        });
        return finite.get();
    }

    @Override
    public void close() {
        compute.close();
        for (Tape lane : lanes) {
            lane.compute().close();
        }
    }
}
