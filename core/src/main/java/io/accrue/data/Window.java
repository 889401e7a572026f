package io.accrue.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The examples of one optimizer step, in training order.
 *
 * @param epoch   the epoch they come from
 * @param start   position of the first example in the epoch's order
 * @param indices dataset indices, in order
 */
public record Window(int epoch, int start, int[] indices) {

    /** Cuts the window into consecutive micro-batches of {@code b} examples; the last may be smaller. */
    public List<int[]> microBatches(int b) {
        if (b <= 0) {
            throw new IllegalArgumentException("micro-batch size must be positive, got " + b);
        }
        List<int[]> out = new ArrayList<>((indices.length + b - 1) / b);
        for (int from = 0; from < indices.length; from += b) {
            out.add(Arrays.copyOfRange(indices, from, Math.min(indices.length, from + b)));
        }
        return out;
    }

    public int size() {
        return indices.length;
    }
}
