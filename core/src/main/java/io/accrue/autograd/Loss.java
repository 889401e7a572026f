package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * What a loss op returns (law 2): the per-row raw loss sums and how many examples/tokens contributed.
 * Backward was seeded with 1 per contribution — the raw SUM's gradient; the trainer divides by the window's
 * total count once, at the step boundary.
 *
 * @param rows  (N) loss of each row; rows that did not contribute (ignored tokens) hold 0
 * @param count number of contributions (non-ignored tokens, or elements for regression)
 */
public record Loss(Tensor rows, long count) {

    /** Σ rows in ascending order, in double. */
    public double sum() {
        double s = 0;
        for (int i = 0; i < rows.size(); i++) {
            s += rows.get(i);
        }
        return s;
    }
}
