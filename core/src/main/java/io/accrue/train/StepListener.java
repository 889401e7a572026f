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

    /**
     * Called when the trainer has paused between two micro-batches at {@link Trainer#pause()}'s request, on the
     * thread that called {@link Trainer#fit()}: no micro-batch runs, the gradient buffer holds the raw sums of the
     * open window's micro-batches so far, and {@code state} (= {@link Trainer#state()}) their position, loss sum and
     * count — the moment to save a checkpoint ({@link Checkpoint#save}). Training goes on when it returns.
     */
    default void onPause(TrainerState state) {
    }
}
