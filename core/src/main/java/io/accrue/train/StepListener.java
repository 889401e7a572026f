package io.accrue.train;

/** Receives training progress: after each micro-batch and at each step boundary. */
public interface StepListener {

    /** Called after micro-batch {@code micro} (0-based) of {@code k} in optimizer step {@code step}. */
    default void onMicroBatch(long step, int micro, int k) {
    }

    /** Called after each step boundary; {@link Trainer#state()} then already points past this step. */
    void onStep(StepMetrics metrics);
}
