/**
 * Data-parallel exact accumulation on Apache Spark: one optimizer step is one Spark job.
 *
 * <p>The driver holds the {@link io.accrue.train.Trainer} (weights, optimizer state, schedule, data cursor) and
 * runs none of the window's micro-batches itself; {@link io.accrue.spark.SparkGradientSync} cuts them into
 * contiguous ranges in window order, one per partition, broadcasts the weights, lets each task run its range
 * with {@link io.accrue.train.Trainer#accumulate} into a local gradient buffer, and adds the returned raw sums
 * and counts in partition order. The trainer's own step boundary then divides once (law 2) and steps.
 */
package io.accrue.spark;
