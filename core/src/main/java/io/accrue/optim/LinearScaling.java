package io.accrue.optim;

/**
 * The linear scaling rule of Goyal et al. (2017): when the effective batch grows by a factor k, multiply the
 * learning rate by k.
 *
 * <p>{@code lr = min(baseLr * effectiveBatch / baseBatch, maxLr)}. Compute it once from the configuration,
 * before training, and use it as the peak of an {@link LrSchedule} (with warmup, as the paper does).
 */
public final class LinearScaling {

    private LinearScaling() {
    }

    /**
     * {@code baseLr * effectiveBatch / baseBatch}, capped at {@code maxLr}; pass
     * {@link Double#POSITIVE_INFINITY} for no cap.
     *
     * @throws IllegalArgumentException if {@code baseLr} is not finite and {@code > 0}, a batch is not
     *                                  {@code > 0}, or {@code maxLr} is NaN or not {@code > 0}
     */
    public static double scale(double baseLr, int baseBatch, int effectiveBatch, double maxLr) {
        if (!(Double.isFinite(baseLr) && baseLr > 0)) {
            throw new IllegalArgumentException("baseLr must be finite and > 0, got " + baseLr);
        }
        if (baseBatch <= 0) {
            throw new IllegalArgumentException("baseBatch must be > 0, got " + baseBatch);
        }
        if (effectiveBatch <= 0) {
            throw new IllegalArgumentException("effectiveBatch must be > 0, got " + effectiveBatch);
        }
        if (!(maxLr > 0)) {
            throw new IllegalArgumentException("maxLr must be > 0 (Infinity for no cap), got " + maxLr);
        }
        return Math.min(baseLr * effectiveBatch / baseBatch, maxLr);
    }

    /** {@code baseLr * effectiveBatch / baseBatch}, uncapped. */
    public static double scale(double baseLr, int baseBatch, int effectiveBatch) {
        return scale(baseLr, baseBatch, effectiveBatch, Double.POSITIVE_INFINITY);
    }
}
