package io.accrue.optim;

import io.accrue.tensor.optimizer.OptimizerKernels;
import io.accrue.tensor.Parallel;
import io.accrue.tensor.ParameterStore;

import java.util.List;
import java.util.Objects;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), with PyTorch's {@code AdamW} semantics.
 *
 * <p>Per step, {@code t += 1}; the scalars {@code 1 - lr*wd}, {@code lr / (1 - b1^t)} and
 * {@code sqrt(1 - b2^t)} are computed once in double; then per element {@code i} of {@code [0, store.size())},
 * in float, in one fused pass:
 * <pre>
 *   w[i] *= 1 - lr * wd                     (only where the parameter's weightDecay() is true)
 *   m[i]  = b1 * m[i] + (1 - b1) * g[i]
 *   v[i]  = b2 * v[i] + (1 - b2) * g[i]^2
 *   w[i] -= lr / (1 - b1^t) * m[i] / (sqrt(v[i]) / sqrt(1 - b2^t) + eps)
 * </pre>
 * which is {@code w -= lr * mhat / (sqrt(vhat) + eps)} with {@code mhat = m/(1-b1^t)},
 * {@code vhat = v/(1-b2^t)}, arranged as PyTorch does. Call {@link #step} once per optimizer step, after
 * the gradients are normalized and clipped and before they are zeroed. Any thread split gives the same bits.
 */
public final class AdamW implements Optimizer {

    private static final int GRAIN = 1 << 11;

    private final ParameterStore store;
    private final Parallel parallel;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final DecayRuns runs;
    private final float[] m; // (P) first moment
    private final float[] v; // (P) second moment
    private long steps;

    public AdamW(ParameterStore store, Parallel parallel, float beta1, float beta2, float eps,
            float weightDecay) {
        this.store = Objects.requireNonNull(store, "store");
        this.parallel = Objects.requireNonNull(parallel, "parallel");
        this.beta1 = Checks.unitInterval("beta1", beta1);
        this.beta2 = Checks.unitInterval("beta2", beta2);
        this.eps = Checks.positive("eps", eps);
        this.weightDecay = Checks.nonNegative("weightDecay", weightDecay);
        this.runs = new DecayRuns(store);
        this.m = new float[store.size()];
        this.v = new float[store.size()];
    }

    @Override
    public void step(float lr) {
        Checks.learningRate(lr);
        long t = steps + 1;
        float decayFactor = (float) (1.0 - (double) lr * weightDecay);
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, t)));
        float bc2Sqrt = (float) Math.sqrt(1.0 - Math.pow(beta2, t));
        float c1 = (float) (1.0 - beta1);
        float c2 = (float) (1.0 - beta2);
        float b1 = beta1;
        float b2 = beta2;
        float e = eps;
        float[] w = store.values();
        float[] grad = store.grads();
        parallel.forRange(store.size(), GRAIN, (from, to) -> runs.forEach(from, to, (lo, hi, decay) ->
                OptimizerKernels.adamW(w, m, v, grad, lo, hi, decay ? decayFactor : 1f, b1, c1, b2, c2, bc2Sqrt, e,
                        stepSize)));
        steps = t;
    }

    @Override
    public String name() {
        return "adamw";
    }

    /** {@code [m, v]}: the first and second moment buffers. */
    @Override
    public List<float[]> state() {
        return List.of(m, v);
    }

    @Override
    public List<String> stateNames() {
        return List.of("exp_avg", "exp_avg_sq");
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    public void restore(List<float[]> state, long steps) {
        Checks.restore(name(), state, steps, m, v);
        this.steps = steps;
    }
}
