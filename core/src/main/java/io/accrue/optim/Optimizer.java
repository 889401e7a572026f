package io.accrue.optim;

import java.util.List;

/**
 * Updates the parameter values from their gradients, once per optimizer step.
 *
 * <p>Call order at the step boundary: normalize, non-finite check, clip, then {@code step(lr)}, then zero the
 * gradients. An optimizer touches elements {@code [0, store.size())} only; tied-use slots must already be
 * folded.
 */
public interface Optimizer {

    /**
     * Applies one update with learning rate {@code lr} and increments {@link #steps()}.
     *
     * @throws IllegalArgumentException if {@code lr} is not finite or not {@code > 0}
     */
    void step(float lr);

    /** A short lowercase name ({@code "sgd"}, {@code "adamw"}), saved with checkpoints. */
    String name();

    /**
     * The live state buffers, each of length {@code store.size()} in the parameter layout, in a fixed order
     * (empty for stateless optimizers). Checkpoints write them as they are; do not modify them.
     */
    List<float[]> state();

    /**
     * The names of the {@link #state()} buffers, in the same order, as PyTorch's optimizer of the same kind calls
     * them ({@code exp_avg} and {@code exp_avg_sq} for AdamW, {@code momentum_buffer} for SGD): a checkpoint saves
     * each parameter's slice of a buffer as {@code <name>.<parameter>}.
     */
    List<String> stateNames();

    /** Number of steps taken so far (the AdamW bias-correction step count). */
    long steps();

    /**
     * Copies {@code state} (as returned by {@link #state()}) into this optimizer's buffers and sets the step
     * count.
     *
     * @throws IllegalArgumentException if the number of buffers or a buffer's length does not match, or
     *                                  {@code steps < 0}
     */
    void restore(List<float[]> state, long steps);
}
