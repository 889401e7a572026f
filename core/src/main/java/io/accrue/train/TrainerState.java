package io.accrue.train;

/**
 * Where a {@link Trainer} stands: together with the weights, the optimizer state and — inside a window — the
 * gradient buffer, it is everything a bit-exact resume needs (the epoch order and dropout masks are pure functions
 * of the seed).
 *
 * <p>Between optimizer steps the window fields are zero. A state taken between two micro-batches of a window
 * ({@link Trainer#stop()}, {@link Trainer#pause()}) holds the open window: how many of its examples are done and
 * their loss sum and count, while the gradient buffer holds their raw gradient sums. Resuming recomputes the same
 * window from (step, epoch, cursor) and continues its chains after those examples (law 3), so the step gets the
 * same bits as a window never interrupted.
 *
 * @param step           optimizer steps (windows) done, the index of the next (or open) one
 * @param epoch          the epoch of the last completed window (the next is cut after its position)
 * @param cursor         position after the last completed window in that epoch's order
 * @param windowExamples examples of the open window done (0: no window open); a multiple of B
 * @param windowLossSum  their raw loss sum, the chain the window's loss continues
 * @param windowCount    the examples or tokens their loss counted
 */
public record TrainerState(long step, int epoch, int cursor, int windowExamples, double windowLossSum,
                           long windowCount) {
    public TrainerState {
        if (step < 0 || epoch < 0 || cursor < 0 || windowExamples < 0 || windowCount < 0) {
            throw new IllegalArgumentException("trainer state must be non-negative, got step=" + step + " epoch="
                    + epoch + " cursor=" + cursor + " windowExamples=" + windowExamples + " windowCount="
                    + windowCount);
        }
        if (windowExamples == 0 && (windowLossSum != 0 || windowCount != 0)) {
            throw new IllegalArgumentException("trainer state with no open window has a loss sum " + windowLossSum
                    + " and count " + windowCount);
        }
    }

    /** A state between optimizer steps: no window open. */
    public TrainerState(long step, int epoch, int cursor) {
        this(step, epoch, cursor, 0, 0, 0);
    }

    /** Whether a window is open: some of its micro-batches are done, the step boundary is not. */
    public boolean windowOpen() {
        return windowExamples > 0;
    }
}
