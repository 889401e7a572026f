package io.accrue.run;

import io.accrue.train.MemoryUsage;
import io.accrue.train.StepMetrics;

/**
 * One optimizer step as a run reports it to its front end ({@link RunListener#step}) and to {@code metrics.jsonl}.
 *
 * @param metrics       the step boundary's record
 * @param memory        training-state bytes after the step
 * @param heapUsedBytes JVM heap in use after the step
 * @param rate          the window's throughput in {@link RunResult#unit}s per second: tokens (examples × T), images
 * @param elapsed       seconds since this process started training
 * @param eta           estimated seconds left, NaN if unknown
 */
public record StepReport(StepMetrics metrics, MemoryUsage memory, long heapUsedBytes, double rate, double elapsed,
                         double eta) {
}
