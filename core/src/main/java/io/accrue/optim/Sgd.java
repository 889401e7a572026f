package io.accrue.optim;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.ParameterStore;

import java.util.List;
import java.util.Objects;

/**
 * Stochastic gradient descent with optional momentum and L2 weight decay, with PyTorch's {@code SGD}
 * semantics (no dampening, no Nesterov).
 *
 * <p>Per element {@code i} of {@code [0, store.size())}, in float:
 * <pre>
 *   g   = grad[i] + weightDecay * w[i]      (the decay term only where the parameter's weightDecay() is true)
 *   buf = g                                 (first step)
 *   buf = momentum * buf + g                (later steps)
 *   w[i] -= lr * buf                        (with momentum 0: w[i] -= lr * g, and no state buffer)
 * </pre>
 * Call {@link #step} once per optimizer step, after the gradients are normalized and clipped and before they
 * are zeroed. The pass is elementwise, so any thread split gives the same bits.
 */
public final class Sgd implements Optimizer {

    private static final int GRAIN = 1 << 11;

    private final ParameterStore store;
    private final Parallel parallel;
    private final float momentum;
    private final float weightDecay;
    private final DecayRuns runs;
    private final float[] buf; // (P) momentum buffer; null when momentum == 0
    private long steps;

    public Sgd(ParameterStore store, Parallel parallel, float momentum, float weightDecay) {
        this.store = Objects.requireNonNull(store, "store");
        this.parallel = Objects.requireNonNull(parallel, "parallel");
        this.momentum = Checks.unitInterval("momentum", momentum);
        this.weightDecay = Checks.nonNegative("weightDecay", weightDecay);
        this.runs = new DecayRuns(store);
        this.buf = momentum == 0f ? null : new float[store.size()];
    }

    @Override
    public void step(float lr) {
        Checks.learningRate(lr);
        float[] w = store.values();
        float[] grad = store.grads();
        boolean first = steps == 0;
        parallel.forRange(store.size(), GRAIN, (from, to) -> runs.forEach(from, to, (lo, hi, decay) -> {
            float wd = decay ? weightDecay : 0f;
            if (buf == null) {
                for (int i = lo; i < hi; i++) {
                    float g = grad[i] + wd * w[i];
                    w[i] -= lr * g;
                }
            } else if (first) {
                for (int i = lo; i < hi; i++) {
                    float g = grad[i] + wd * w[i];
                    buf[i] = g;
                    w[i] -= lr * g;
                }
            } else {
                for (int i = lo; i < hi; i++) {
                    float g = grad[i] + wd * w[i];
                    float b = momentum * buf[i] + g;
                    buf[i] = b;
                    w[i] -= lr * b;
                }
            }
        }));
        steps++;
    }

    @Override
    public String name() {
        return "sgd";
    }

    /** The momentum buffer, or an empty list when momentum is 0. */
    @Override
    public List<float[]> state() {
        return buf == null ? List.of() : List.of(buf);
    }

    @Override
    public List<String> stateNames() {
        return buf == null ? List.of() : List.of("momentum_buffer");
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void restore(List<float[]> state, long steps) {
        if (buf == null) {
            Checks.restore(name(), state, steps);
        } else {
            Checks.restore(name(), state, steps, buf);
        }
        this.steps = steps;
    }

    public float momentum() {
        return momentum;
    }

    public float weightDecay() {
        return weightDecay;
    }
}
