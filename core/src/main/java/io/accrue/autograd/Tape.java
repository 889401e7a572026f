package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import io.accrue.tensor.elementwise.Elementwise;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Records the backward steps of one micro-batch's forward pass and replays them in reverse.
 *
 * <p>Call order per micro-batch: ops (forward, each recording its backward) → {@link #backward()} →
 * {@link #reset()}, which empties the tape and the activation arena.
 *
 * <p>Activation gradients are recycled: once the backward step of the op that produced a tensor has run, no
 * later step reads that tensor's gradient (its consumers' steps ran before), so the buffer goes to a spare list
 * and serves the next gradient of the same size. The arena's bump pointer never moves back (law 4 holds for
 * activations and scratch); only the gradient buffers are reused, which bounds them by the most gradients
 * alive at once (a few per block) instead of one per op output. Recycling changes no value: a reused buffer
 * is zeroed like a fresh one.
 *
 * <p>A tape made with a {@link DryRun} is {@link #planning()}: the same calls allocate the same sizes from a
 * counting arena and record the same steps, and the ops skip their arithmetic.
 */
public final class Tape {

    /** The backward half of a recorded op: adds into (or, for a fresh gradient, writes) its inputs' gradients. */
    @FunctionalInterface
    public interface Backward {
        void run();
    }

    /** A recorded step and the op outputs allocated since the previous one, {@code outputs[from, to)}. */
    private record Entry(Backward backward, int from, int to) {
    }

    private final Compute compute;
    private final Arena arena;
    private final boolean recycleGradients;
    private final DryRun dryRun; // null: not planning
    private final List<Entry> entries = new ArrayList<>();
    private final List<Tensor> outputs = new ArrayList<>();
    private final List<Tensor> spareGradients = new ArrayList<>();
    private int unrecordedFrom;
    private boolean training = true;
    private int epoch;

    /** A tape that recycles activation gradients. */
    public Tape(Compute compute, Arena arena) {
        this(compute, arena, true);
    }

    /**
     * @param recycleGradients false for a tape whose whole arena region is released after its backward
     *                         ({@link CheckpointOp}): its gradients die with the region
     */
    public Tape(Compute compute, Arena arena, boolean recycleGradients) {
        this(compute, arena, recycleGradients, null);
    }

    /**
     * A planning tape: forward and backward allocate from {@code dryRun}'s counting arena and compute nothing.
     * {@code compute} gives the thread count that sizes per-thread scratch; its team runs nothing.
     */
    public Tape(Compute compute, DryRun dryRun) {
        this(compute, dryRun.arena(), true, dryRun);
    }

    private Tape(Compute compute, Arena arena, boolean recycleGradients, DryRun dryRun) {
        if (arena.isCounting() != (dryRun != null)) {
            throw new IllegalArgumentException("a counting arena belongs to a planning tape: new Tape(compute, "
                    + "dryRun)");
        }
        this.compute = compute;
        this.arena = arena;
        this.recycleGradients = recycleGradients;
        this.dryRun = dryRun;
    }

    /**
     * A tape on the same compute and arena, in the same mode, that does not recycle gradients: for a region of
     * the arena that is released whole after its backward ({@link CheckpointOp}).
     */
    public Tape region() {
        Tape t = new Tape(compute, arena, false, dryRun);
        t.setTraining(training);
        t.setEpoch(epoch);
        return t;
    }

    /**
     * Whether this tape only plans ({@link DryRun}): ops allocate and record as in training, then return before
     * their arithmetic; tensors have no storage.
     */
    public boolean planning() {
        return dryRun != null;
    }

    /** The dry run this tape plans for, or null. */
    DryRun dryRun() {
        return dryRun;
    }

    public Compute compute() {
        return compute;
    }

    public Arena arena() {
        return arena;
    }

    /** Training mode: dropout active, batch norm uses batch statistics and updates running ones. */
    public boolean training() {
        return training;
    }

    public void setTraining(boolean training) {
        this.training = training;
    }

    /**
     * The epoch whose examples this tape's micro-batches come from: part of every dropout key (law 5), so an example
     * gets a fresh mask each epoch and the same one in a micro-batch of any size. The trainer sets it per window.
     */
    public int epoch() {
        return epoch;
    }

    public void setEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch must be ≥ 0, got " + epoch);
        }
        this.epoch = epoch;
    }

    /** An uninitialised arena tensor for an op's output; backward will produce its gradient. */
    public Tensor output(int... shape) {
        Tensor y = arena.allocate(shape).requireGrad();
        if (recycleGradients) {
            outputs.add(y);
        }
        return y;
    }

    /** Scratch an op saves for its backward (not differentiated). */
    public Tensor scratch(int... shape) {
        return arena.allocate(shape);
    }

    /** Scratch holding a copy of {@code values} (a micro-batch's input features), of the given shape. */
    public Tensor input(float[] values, int... shape) {
        if (values.length != Tensor.sizeOf(shape)) {
            throw new IllegalArgumentException(values.length + " input values do not fill shape "
                    + Arrays.toString(shape));
        }
        Tensor x = arena.allocate(shape);
        if (!planning()) {
            x.copyFrom(values);
        }
        return x;
    }

    /**
     * The gradient of {@code t}: the parameter's view into the gradient buffer, or for an activation a zeroed
     * arena tensor created on first use.
     */
    public Tensor grad(Tensor t) {
        Tensor g = t.grad();
        if (g == null) {
            if (t.base() != null) {
                g = grad(t.base()).reshape(t.shape());
            } else {
                g = gradientBuffer(t.shape());
                if (!planning()) {
                    Elementwise.zero(compute.parallel(), g.data(), g.offset(), g.size());
                }
            }
            t.setGrad(g);
        }
        return g;
    }

    /**
     * The gradient of {@code t} for an op that writes every element of it, uninitialised, when {@code t} has none
     * yet and is not a view; otherwise null, and the op adds to {@link #grad} instead (another consumer has
     * written to it). Saves the zeroing pass a first {@link #grad} makes.
     */
    public Tensor freshGrad(Tensor t) {
        if (t.grad() != null || t.base() != null) {
            return null;
        }
        Tensor g = gradientBuffer(t.shape());
        t.setGrad(g);
        return g;
    }

    /** A spare gradient buffer of the shape's size, or new arena storage when none is spare. */
    private Tensor gradientBuffer(int[] shape) {
        int n = Tensor.sizeOf(shape);
        for (int i = spareGradients.size() - 1; i >= 0; i--) {
            Tensor spare = spareGradients.get(i);
            if (spare.size() == n) {
                spareGradients.remove(i);
                return new Tensor(spare.data(), spare.offset(), shape);
            }
        }
        return arena.allocate(shape);
    }

    /**
     * Records a backward step; ops call this only when some input requires a gradient. The outputs allocated
     * since the previous record belong to this step (or to ops before it that recorded none): their gradients
     * are dead once it has run.
     */
    public void record(Backward b) {
        entries.add(new Entry(b, unrecordedFrom, outputs.size()));
        unrecordedFrom = outputs.size();
    }

    public int size() {
        return entries.size();
    }

    /** Runs every recorded backward step in reverse order, then forgets them. */
    public void backward() {
        backward(null, 0);
    }

    /**
     * {@link #backward()} for micro-batch {@code microBatch} of a window whose micro-batches run at once: each
     * step waits for the previous micro-batch's same step ({@link MicroBatchOrder}), so the gradient buffer's
     * sums keep micro-batch order. A null order runs unordered, as {@link #backward()}.
     */
    public void backward(MicroBatchOrder order, int microBatch) {
        int steps = entries.size();
        for (int i = steps - 1; i >= 0; i--) {
            Entry e = entries.get(i);
            int step = steps - 1 - i;
            if (order != null) {
                order.awaitStep(microBatch, step);
            }
            e.backward().run();
            if (order != null) {
                order.stepsDone(microBatch, step + 1);
            }
            for (int o = e.from(); o < e.to(); o++) {
                Tensor g = outputs.get(o).grad();
                if (g != null) {
                    spareGradients.add(g);
                }
            }
        }
        if (order != null) {
            order.finished(microBatch);
        }
        forget();
    }

    /** Forgets recorded steps and makes the whole arena reusable (end of a micro-batch). */
    public void reset() {
        forget();
        spareGradients.clear();
        arena.reset();
    }

    /**
     * Forgets recorded steps and releases the arena back to {@code mark} ({@link Arena#mark}): what was allocated
     * before the mark (a decoder's key/value cache) stays valid. For forward-only passes, whose steps are never run.
     */
    public void resetTo(Arena.Mark mark) {
        forget();
        spareGradients.clear();
        arena.release(mark);
    }

    private void forget() {
        entries.clear();
        outputs.clear();
        unrecordedFrom = 0;
    }
}
