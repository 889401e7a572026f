package io.accrue.spark;

import java.io.Serializable;

/**
 * One task's share of a window: the raw gradient sum over its micro-batches (the whole gradient buffer, tied-use
 * slots included), the loss sum and the count (law 2), and how long forward/backward took.
 *
 * @param partition    the task's partition index: its position in the combination order
 * @param grads        raw gradient sums, in the parameter store's gradient layout
 * @param lossSum      raw loss sum
 * @param count        examples or tokens that contributed
 * @param computeNanos forward/backward wall time of the task
 */
public record PartialSum(int partition, float[] grads, double lossSum, long count, long computeNanos)
        implements Serializable {
}
