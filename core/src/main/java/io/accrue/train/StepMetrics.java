package io.accrue.train;

/**
 * What happened at one step boundary.
 *
 * @param step           optimizer step index (0-based; windows, including skipped ones)
 * @param epoch          epoch the window started in
 * @param accumulation   K, micro-batches in this window
 * @param examples       examples in the window
 * @param count          examples or tokens the loss was normalized by
 * @param loss           the window's exact count-weighted mean loss
 * @param lr             learning rate used for this step
 * @param gradNorm       global gradient norm before clipping (NaN when skipped)
 * @param skipped        whether the non-finite guard skipped this window
 * @param seconds        wall time of the window
 * @param arenaFloats    the activation arena's high-water mark so far, in floats
 */
public record StepMetrics(long step, int epoch, int accumulation, int examples, long count, double loss, double lr,
                          double gradNorm, boolean skipped, double seconds, long arenaFloats) {
}
