package io.accrue.spark;

import io.accrue.tensor.ParameterStore;
import io.accrue.train.GradientSync;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Data-parallel accumulation on Spark: one optimizer step = one Spark job of {@code min(workers, K)} tasks.
 *
 * <p>Per step: the driver broadcasts the current weights (one {@code float[]}, not the model; executors keep their
 * own model, built from the {@link WorkerRecipe}); micro-batch {@code k} of the window's K goes to partition
 * {@code p} with {@code p·K/W ≤ k < (p+1)·K/W} — contiguous ranges in window order; each task runs its range with
 * {@link io.accrue.train.Trainer#accumulate} from zero gradients and returns a {@link PartialSum}; the driver
 * writes partition 0's sums into the gradient buffer and adds the others' in partition index order (never
 * completion order), adding loss sums and counts the same way. The trainer's step boundary then divides once.
 *
 * <p>Exactness: with one worker the gradient buffer holds the same bits as a single-process window (the task runs
 * the same chain; the thread count does not change bits, law 1). With W &gt; 1 workers each element is the fp32 sum
 * of W chains instead of one (law 3 is split at the partition boundaries): equal to single-process training within
 * fp32 rounding (relative L2 difference of the weights below 1e-5 in the tests), and bit-identical from run to run
 * and under task retries, since each attempt recomputes from the same broadcast weights and micro-batches.
 *
 * <p>The driver runs no micro-batches itself ({@link #local} is empty).
 */
public final class SparkGradientSync implements GradientSync {

    /** Wall-clock breakdown of the last step's job, for the synchronization-overhead figures. */
    public record Timing(long broadcastNanos, long jobNanos, long maxTaskNanos, long combineNanos) {
        /** Everything but the slowest task's forward/backward: broadcast, scheduling, transfer, combination. */
        public long overheadNanos() {
            return broadcastNanos + jobNanos - maxTaskNanos + combineNanos;
        }
    }

    private final JavaSparkContext spark;
    private final WorkerRecipe<?> recipe;
    private final int workers;
    private final int microBatch;
    private boolean failFirstAttempt;
    private Timing last;

    /**
     * @param spark      the context to run jobs on
     * @param recipe     how executors build the model and the data
     * @param workers    W, partitions per step (at most the window's K are used)
     * @param microBatch B, as in the driver's {@link io.accrue.train.TrainConfig}
     */
    public SparkGradientSync(JavaSparkContext spark, WorkerRecipe<?> recipe, int workers, int microBatch) {
        if (workers <= 0) {
            throw new IllegalArgumentException("workers must be positive, got " + workers);
        }
        this.spark = spark;
        this.recipe = recipe;
        this.workers = workers;
        this.microBatch = microBatch;
    }

    /** Tests: the first attempt of partition 0's task of every step throws, so Spark must retry it. */
    SparkGradientSync failFirstAttempt(boolean on) {
        failFirstAttempt = on;
        return this;
    }

    public Timing lastTiming() {
        return last;
    }

    /** {@code sync_ms}: the last step's overhead ({@link Timing#overheadNanos}); NaN before the first. */
    @Override
    public Map<String, Object> lastStepMetrics() {
        return Map.of("sync_ms", last == null ? Double.NaN : last.overheadNanos() / 1e6);
    }

    /** {@code workers}: W. */
    @Override
    public Map<String, Object> facts() {
        return Map.of("workers", workers);
    }

    @Override
    public List<int[]> local(List<int[]> microBatches) {
        return List.of();
    }

    @Override
    public Totals sum(ParameterStore store, List<int[]> microBatches, Totals local) {
        return sum(store, 0, microBatches, local);
    }

    /** Runs the window's micro-batches of {@code epoch} (which keys dropout) on the workers and adds their sums. */
    @Override
    public Totals sum(ParameterStore store, int epoch, List<int[]> microBatches, Totals local) {
        int k = microBatches.size();
        int w = Math.min(workers, k);
        List<int[][]> ranges = new ArrayList<>(w);
        for (int p = 0; p < w; p++) {
            ranges.add(microBatches.subList(p * k / w, (p + 1) * k / w).toArray(new int[0][]));
        }
        long t0 = System.nanoTime();
        Broadcast<float[]> weights = spark.broadcast(store.values());
        long t1 = System.nanoTime();
        List<PartialSum> parts;
        try {
            WorkerRecipe<?> r = recipe;
            int b = microBatch;
            boolean fail = failFirstAttempt;
            parts = spark.parallelize(ranges, w).mapPartitionsWithIndex((partition, it) -> {
                TaskContext task = TaskContext.get();
                if (fail && partition == 0 && task.attemptNumber() == 0) {
                    throw new IllegalStateException("injected failure of partition 0, attempt 0");
                }
                int[][] range = it.next();
                return List.of(Workers.run(r, b, Math.max(1, task.cpus()), partition, epoch, range,
                        weights.value()))
                        .iterator();
            }, true).collect();
        } finally {
            weights.destroy();
        }
        long t2 = System.nanoTime();
        parts = new ArrayList<>(parts);
        parts.sort(Comparator.comparingInt(PartialSum::partition));
        float[] g = store.grads();
        double lossSum = local.lossSum();
        long count = local.count();
        long maxTask = 0;
        for (int p = 0; p < parts.size(); p++) {
            PartialSum part = parts.get(p);
            if (part.partition() != p || part.grads().length != g.length) {
                throw new IllegalStateException("partition " + p + " returned partition " + part.partition()
                        + " with " + part.grads().length + " gradients, expected " + g.length);
            }
            float[] pg = part.grads();
            if (p == 0 && local.count() == 0) {
                System.arraycopy(pg, 0, g, 0, g.length);
            } else {
                for (int i = 0; i < g.length; i++) {
                    g[i] += pg[i];
                }
            }
            lossSum += part.lossSum();
            count += part.count();
            maxTask = Math.max(maxTask, part.computeNanos());
        }
        long t3 = System.nanoTime();
        last = new Timing(t1 - t0, t2 - t1, maxTask, t3 - t2);
        return new Totals(lossSum, count);
    }
}
