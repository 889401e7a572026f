package io.accrue.train;

/** Receives training progress: after each micro-batch and at each step boundary. */
public interface StepListener {

    /**
     * Called after micro-batch {@code micro} (0-based) of {@code k} in optimizer step {@code step}. With concurrent
     * micro-batches ({@link TrainConfig#concurrentMicroBatches} &gt; 1) it is called from the thread that ran the
     * micro-batch, still one call at a time and in micro-batch order.
     */
    default void onMicroBatch(long step, int micro, int k) {
    }

    /** Called after each step boundary; {@link Trainer#state()} then already points past this step. */
    void onStep(StepMetrics metrics);
}
