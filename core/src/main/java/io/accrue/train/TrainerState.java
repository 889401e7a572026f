package io.accrue.train;

/**
 * Where a {@link Trainer} stands between optimizer steps: together with the weights and the optimizer state it
 * is everything a bit-exact resume needs (the epoch order and dropout masks are pure functions of the seed).
 *
 * @param step   optimizer steps (windows) done, the index of the next one
 * @param epoch  the epoch the next window is cut from
 * @param cursor position of the next example in that epoch's order
 */
public record TrainerState(long step, int epoch, int cursor) {
    public TrainerState {
        if (step < 0 || epoch < 0 || cursor < 0) {
            throw new IllegalArgumentException("trainer state must be non-negative, got step=" + step + " epoch="
                    + epoch + " cursor=" + cursor);
        }
    }
}
