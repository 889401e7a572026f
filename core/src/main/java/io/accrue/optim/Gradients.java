package io.accrue.optim;

import java.util.List;

/** Gradient arithmetic at the step boundary. */
public final class Gradients {

    private Gradients() {
    }

    /**
     * The element-wise mean of K gradient vectors: sum them in list order, then divide by K once (law 2).
     *
     * <p>{@code out[i] = (((grads[0][i] + grads[1][i]) + ...) + grads[K-1][i]) / K}, in float: one addition
     * chain per element in the order k = 0, 1, ..., K-1, then a single correctly rounded division. Because
     * the chain order is fixed and the division happens once, the result depends only on the list, never on
     * how the sum was scheduled; it is the smallest case of the trainer's rule "backward adds raw sums,
     * the step boundary divides by the count once". Call it once per optimizer step with the K micro-batch
     * gradient sums (each already a raw sum, not a mean) — or, for K per-micro-batch <em>means</em> of equal
     * size, to get the mean of means.
     *
     * @param grads K >= 1 gradient vectors of equal length; none is modified
     * @return a new array holding the mean
     * @throws IllegalArgumentException if {@code grads} is null or empty, an entry is null, or the lengths
     *                                  differ; the message names the offending index and both lengths
     */
    public static float[] accumulate(List<float[]> grads) {
        if (grads == null) {
            throw new IllegalArgumentException("grads is null");
        }
        if (grads.isEmpty()) {
            throw new IllegalArgumentException("grads is empty: need at least one gradient vector");
        }
        int k = grads.size();
        float[] first = grads.get(0);
        if (first == null) {
            throw new IllegalArgumentException("grads[0] is null");
        }
        for (int j = 1; j < k; j++) {
            float[] g = grads.get(j);
            if (g == null) {
                throw new IllegalArgumentException("grads[" + j + "] is null");
            }
            if (g.length != first.length) {
                throw new IllegalArgumentException("grads[" + j + "] has length " + g.length + ", expected "
                        + first.length + " like grads[0]");
            }
        }
        float[] out = first.clone();
        for (int j = 1; j < k; j++) { // k outer, i inner: each element's chain still runs k = 0..K-1
            float[] g = grads.get(j);
            for (int i = 0; i < out.length; i++) {
                out[i] += g[i];
            }
        }
        float count = k;
        for (int i = 0; i < out.length; i++) {
            out[i] /= count;
        }
        return out;
    }
}
