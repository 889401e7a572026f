package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Kernels;
import io.accrue.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Records the backward steps of one micro-batch's forward pass and replays them in reverse.
 *
 * <p>Call order per micro-batch: ops (forward, each recording its backward) → {@link #backward()} →
 * {@link #reset()}, which empties the tape and the activation arena.
 */
public final class Tape {

    /** The backward half of a recorded op: adds into the gradients of the op's inputs. */
    @FunctionalInterface
    public interface Backward {
        void run();
    }

    private final Compute compute;
    private final Arena arena;
    private final List<Backward> entries = new ArrayList<>();
    private boolean training = true;

    public Tape(Compute compute, Arena arena) {
        this.compute = compute;
        this.arena = arena;
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

    /** An uninitialised arena tensor for an op's output; backward will produce its gradient. */
    public Tensor output(int... shape) {
        return arena.allocate(shape).requireGrad();
    }

    /** Scratch an op saves for its backward (not differentiated). */
    public Tensor scratch(int... shape) {
        return arena.allocate(shape);
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
                g = arena.allocate(t.shape());
                Kernels.zero(compute.parallel(), g.data(), g.offset(), g.size());
            }
            t.setGrad(g);
        }
        return g;
    }

    /** Records a backward step; ops call this only when some input requires a gradient. */
    public void record(Backward b) {
        entries.add(b);
    }

    public int size() {
        return entries.size();
    }

    /** Runs every recorded backward step in reverse order, then forgets them. */
    public void backward() {
        for (int i = entries.size() - 1; i >= 0; i--) {
            entries.get(i).run();
        }
        entries.clear();
    }

    /** Forgets recorded steps and makes the whole arena reusable (end of a micro-batch). */
    public void reset() {
        entries.clear();
        arena.reset();
    }
}
