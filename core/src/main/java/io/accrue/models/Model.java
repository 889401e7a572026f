package io.accrue.models;

import io.accrue.autograd.Loss;
import io.accrue.autograd.Tape;
import io.accrue.tensor.ParameterStore;

/**
 * A trainable model: its parameters and the loss of one micro-batch.
 *
 * @param <I> the micro-batch type ({@link TokenBatch}, {@link FeatureBatch})
 */
public interface Model<I> {

    /** All parameters in one flat store (law 1). */
    ParameterStore parameters();

    /** Records the forward pass of {@code batch} on {@code tape} and returns the raw loss sum and count. */
    Loss loss(Tape tape, I batch);

    /** Whether a layer shares statistics across the examples of a micro-batch (BatchNorm). */
    boolean mixesExamples();

    /**
     * A micro-batch of B examples shaped like a training one, for a dry run of {@link #loss}
     * ({@link io.accrue.autograd.DryRun}): what is allocated depends on its shapes only, so its values are
     * placeholders (zeros, every example counted).
     */
    I planningBatch(int microBatch);
}
