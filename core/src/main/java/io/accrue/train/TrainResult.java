package io.accrue.train;

import java.util.List;

/**
 * The outcome of {@link Trainer#fit()}.
 *
 * @param steps          optimizer steps taken (skipped windows excluded)
 * @param windows        windows processed (steps + skipped)
 * @param examples       examples processed
 * @param count          examples/tokens the losses were normalized by, in total
 * @param skippedWindows windows the non-finite guard skipped
 * @param finalLoss      the last window's loss
 * @param seconds        wall time of fit
 * @param warnings       warnings emitted at start (e.g. BatchNorm with K &gt; 1)
 */
public record TrainResult(long steps, long windows, long examples, long count, long skippedWindows, double finalLoss,
                          double seconds, List<String> warnings) {
}
