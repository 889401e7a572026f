package io.accrue.run;

/**
 * How a front end follows a {@link Run}: the command line draws a progress bar or plain lines, Spark prints its
 * own. Every method is optional; all are called on the thread that called {@link Run#execute}, except
 * {@link #microBatch}, which concurrent micro-batches call from their own threads.
 *
 * <p>Call order: {@link #line} for the configuration, {@link #started}, then per optimizer step
 * {@link #microBatch} K times and {@link #step} once (with {@link #line} for evaluations and warnings between),
 * {@link #finished}, then {@link #line} for the summary.
 */
public interface RunListener {
    /** Follows nothing. */
    RunListener NONE = new RunListener() {
    };

    /** A line of the run's account: configuration, evaluation, warning, summary. */
    default void line(String text) {
    }

    /**
     * Training starts.
     *
     * @param plannedSteps optimizer steps of the whole run
     * @param doneSteps    steps already done (a resumed run)
     * @param unit         the throughput unit, {@code tok} or {@code img}
     */
    default void started(long plannedSteps, long doneSteps, String unit) {
    }

    /** Micro-batch {@code micro} of {@code k} of optimizer step {@code step} (0-based) is done. */
    default void microBatch(long step, int micro, int k) {
    }

    /** An optimizer step is done and logged. */
    default void step(StepReport report) {
    }

    /** Training has stopped (done, or asked to stop); the summary lines follow. */
    default void finished() {
    }

    /**
     * A checkpoint is being written: {@code file} is complete ({@link io.accrue.train.Checkpoint.WriteListener}).
     * Called on the thread that called {@link Run#execute}.
     */
    default void checkpointWriting(java.nio.file.Path file) throws java.io.IOException {
    }
}
