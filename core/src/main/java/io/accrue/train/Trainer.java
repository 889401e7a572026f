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
    private volatile boolean stopRequested;
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

    /** The position after the last completed step (call between steps, e.g. from a listener's onStep). */
    public TrainerState state() {
        return new TrainerState(step, epoch, cursor);
    }

    /**
     * Continues from {@code state}, as saved by {@link #state()}; restore the weights and the optimizer state
     * ({@link Optimizer#restore}) alongside it. Call before {@link #fit()}.
     *
     * @throws IllegalArgumentException if the state lies beyond this configuration's data or planned steps
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
        step = state.step();
        epoch = state.epoch();
        cursor = state.cursor();
    }

    /** Asks {@link #fit()} to return after the current step (safe from a listener or another thread). */
    public void stop() {
        stopRequested = true;
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

    /** Runs windows until the planned steps are done (or {@link #stop()} is called) and returns the totals. */
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
            StepMetrics m = trainWindow(nextWindow());
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

    /** The examples of the next optimizer step: the next N of the epoch's keyed order. */
    private Window nextWindow() {
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
            Window w = new Window(epoch, cursor, Arrays.copyOfRange(order.order(epoch), cursor, cursor + size));
            cursor += size;
            return w;
        }
    }

    /** Forward/backward over this process's micro-batches of the window, the workers' sums, the step boundary. */
    private StepMetrics trainWindow(Window window) {
        long t0 = System.nanoTime();
        List<int[]> micro = window.microBatches(config.microBatch());
        GradientSync.Totals local = accumulate(sync.local(micro));
        GradientSync.Totals all = sync.sum(model.parameters(), micro, local);
        StepMetrics m = stepBoundary(window, micro.size(), all.lossSum(), all.count(), t0);
        step++;
        for (StepListener l : listeners) {
            l.onStep(m);
        }
        return m;
    }

    /**
     * Forward and backward of each micro-batch in order, adding raw loss-sum gradients into the gradient buffer
     * (which is not zeroed here); returns the loss sum and count. The step boundary is not taken: a data-parallel
     * worker calls this for its share of a window and hands the buffer to {@link GradientSync#sum}.
     */
    public GradientSync.Totals accumulate(List<int[]> microBatches) {
        if (!lanes.isEmpty() && microBatches.size() > 1) {
            return accumulateConcurrently(microBatches);
        }
        double lossSum = 0;
        long count = 0;
        tape.setTraining(true);
        // The weights do not change before the step boundary: the forward and backward pack each once a window.
        Gemm gemm = tape.compute().gemm();
        gemm.holdWeights(microBatches.size() > 1);
        try {
            for (int i = 0; i < microBatches.size(); i++) {
                Loss loss = model.loss(tape, data.batch(microBatches.get(i)));
                Tensor rows = loss.rows();
                for (int r = 0; r < rows.size(); r++) {
                    lossSum += rows.get(r);
                }
                count += loss.count();
                tape.backward();
                tape.reset();
                for (StepListener l : listeners) {
                    l.onMicroBatch(step, i, microBatches.size());
                }
            }
        } finally {
            gemm.holdWeights(false);
        }
        return new GradientSync.Totals(lossSum, count);
    }

    /**
     * {@link #accumulate} with micro-batch i on lane i mod L, the lanes at once (lane 0 on the calling thread):
     * their backward steps and loss sums go in micro-batch order ({@link MicroBatchOrder}), so the gradient
     * buffer and the loss get the same bits as one micro-batch at a time.
     */
    private GradientSync.Totals accumulateConcurrently(List<int[]> microBatches) {
        MicroBatchOrder order = new MicroBatchOrder(lanes.size());
        double[] lossSum = {0};
        long[] count = {0};
        Throwable[] failure = new Throwable[lanes.size()];
        Runnable[] runs = new Runnable[lanes.size()];
        Thread[] threads = new Thread[lanes.size()];
        for (int l = 0; l < lanes.size(); l++) {
            int lane = l;
            runs[l] = () -> {
                try {
                    runLane(lane, microBatches, order, lossSum, count);
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
        return new GradientSync.Totals(lossSum[0], count[0]);
    }

    /** Lane {@code lane}'s micro-batches of the window: forward, backward in order, loss added in order. */
    private void runLane(int lane, List<int[]> microBatches, MicroBatchOrder order, double[] lossSum,
                         long[] count) {
        Tape t = lanes.get(lane);
        t.setTraining(true);
        t.compute().gemm().holdWeights(true);
        for (int i = lane; i < microBatches.size(); i += lanes.size()) {
            Loss loss = model.loss(t, data.batch(microBatches.get(i)));
            t.backward(order, i);
            order.awaitTurn(i);
            Tensor rows = loss.rows();
            for (int r = 0; r < rows.size(); r++) {
                lossSum[0] += rows.get(r);
            }
            count[0] += loss.count();
            for (StepListener l : listeners) {
                l.onMicroBatch(step, i, microBatches.size());
            }
            order.endTurn(i);
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
