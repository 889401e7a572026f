package io.accrue.autograd;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Keeps the parameter gradients of micro-batches that run at once in dataset order (law 3).
 *
 * <p>Micro-batch i of a window runs on lane {@code i % lanes}, each lane on its own thread with its own tape, so
 * several run their forward and backward at the same time. Their backward steps add into the one gradient
 * buffer, and every such sum must still be one chain in micro-batch order: micro-batch i may run its backward
 * step e only once micro-batch i−1 has run its own step e. Every micro-batch records the same steps in the same
 * order (the same model; only the last micro-batch may have fewer examples), and each step adds into its own
 * parameters, so step e of i−1 holds all of i−1's contribution to them. The loss sum, a chain too, goes the
 * same way through {@link #awaitTurn}.
 *
 * <p>Each lane publishes one word: the micro-batch it runs (plus one) and how many backward steps of it are done.
 * Waits spin: the lane ahead is one backward step ahead, so they are short.
 */
public final class MicroBatchOrder {
    /** Steps done when a micro-batch has finished its backward. */
    private static final long FINISHED = 0xFFFF_FFFFL;

    private final int lanes;
    /** Set when a micro-batch failed: the others stop waiting for it. */
    private volatile boolean aborted;
    /** Per lane: {@code (microBatch + 1) << 32 | stepsDone}; 0 before its first micro-batch. */
    private final AtomicLongArray progress;
    /** Per lane: the micro-batch whose loss was added last, plus one (loss turns). */
    private final AtomicLongArray turns;

    public MicroBatchOrder(int lanes) {
        if (lanes < 1) {
            throw new IllegalArgumentException("lanes must be positive, got " + lanes);
        }
        this.lanes = lanes;
        this.progress = new AtomicLongArray(lanes);
        this.turns = new AtomicLongArray(lanes);
    }

    /** Waits until micro-batch {@code microBatch − 1} has done its backward step {@code step}. */
    void awaitStep(int microBatch, int step) {
        if (microBatch == 0) {
            return;
        }
        int lane = (microBatch - 1) % lanes;
        while (true) {
            long p = progress.get(lane);
            long running = (p >>> 32) - 1;
            if (running > microBatch - 1 || running == microBatch - 1 && (p & FINISHED) > step) {
                return;
            }
            spin();
        }
    }

    /** Publishes that {@code microBatch} has done {@code steps} backward steps. */
    void stepsDone(int microBatch, long steps) {
        progress.set(microBatch % lanes, (long) (microBatch + 1) << 32 | Math.min(steps, FINISHED));
    }

    /** Publishes that {@code microBatch}'s backward is complete. */
    void finished(int microBatch) {
        stepsDone(microBatch, FINISHED);
    }

    /** Waits until the micro-batch before {@code microBatch} has ended its turn (its loss is added). */
    public void awaitTurn(int microBatch) {
        if (microBatch == 0) {
            return;
        }
        int lane = (microBatch - 1) % lanes;
        while (turns.get(lane) < microBatch) {
            spin();
        }
    }

    /** Makes every wait, now and later, throw {@link Aborted}: a micro-batch failed and will not go on. */
    public void abort() {
        aborted = true;
    }

    private void spin() {
        if (aborted) {
            throw new Aborted();
        }
        Thread.onSpinWait();
    }

    /** Thrown by a wait once the order is {@link #abort aborted}; the failure that aborted it is reported instead. */
    public static final class Aborted extends RuntimeException {
        Aborted() {
            super("another micro-batch of the window failed", null, false, false);
        }
    }

    /** Ends {@code microBatch}'s turn. */
    public void endTurn(int microBatch) {
        turns.set(microBatch % lanes, microBatch + 1);
    }
}
