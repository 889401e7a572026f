/**
 * Data-parallel exact accumulation on Apache Spark: W replicas in one barrier stage combine gradient sums among
 * themselves.
 *
 * <p>{@link io.accrue.spark.SparkTrain} validates the run and launches W long-lived barrier tasks; each
 * {@link io.accrue.spark.Replica} builds the model, optimizer state and data from the run's
 * {@link io.accrue.run.RunSpec}, joins a TCP {@link io.accrue.spark.Ring} with the others, and trains the whole run
 * with a {@link io.accrue.spark.RingGradientSync}: its contiguous range of every window's micro-batches, then the raw
 * sums and counts added across the replicas in a fixed order, then the same step boundary on the same bits
 * everywhere (law 2). Rank 0 writes the run directory; the driver carries only control.
 */
package io.accrue.spark;
