package io.accrue.spark;

import io.accrue.tensor.ParameterStore;
import io.accrue.train.GradientSync;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Data parallelism among replicas that each hold the whole model and optimizer state: replica r of W runs the
 * window's micro-batches {@code [r·K/W, (r+1)·K/W)} (contiguous, in window order), then {@link #sum} adds the raw
 * gradient sums of all replicas in place over the {@link Ring}, and every replica takes the same step boundary on
 * the same bits. Nothing passes through a coordinator.
 *
 * <p>Per step, first the totals: every replica's loss sum and count are gathered and added in rank order (this
 * also waits for the slowest replica, {@code wait_ms}); then the gradient buffer (the whole buffer, tied-use slots
 * included) is all-reduced ({@code sync_ms}: transfer and additions only, all replicas having arrived).
 *
 * <p>Exactness: with W = 1 the replica runs the window's single chain, bit-identical to one process. With W &gt; 1
 * each element is the fp32 sum of W chains in the ring's fixed order: equal to one process within fp32 rounding,
 * and the same bits on every replica, run to run and on a retried stage.
 */
final class RingGradientSync implements GradientSync {
    private final Ring ring;
    private long waitNanos;
    private long syncNanos;
    private long syncCpuNanos;

    RingGradientSync(Ring ring) {
        this.ring = ring;
    }

    @Override
    public List<int[]> local(List<int[]> microBatches) {
        int k = microBatches.size();
        int w = ring.size();
        return microBatches.subList(ring.rank() * k / w, (ring.rank() + 1) * k / w);
    }

    @Override
    public Totals sum(ParameterStore store, List<int[]> microBatches, Totals local) {
        try {
            long t0 = System.nanoTime();
            double[][] all = ring.allGather(new double[]{local.lossSum(), local.count()});
            long t1 = System.nanoTime();
            long cpu = ring.cpuNanos();
            ring.allReduce(store.grads());
            long t2 = System.nanoTime();
            waitNanos = t1 - t0;
            syncNanos = t2 - t1;
            syncCpuNanos = ring.cpuNanos() - cpu;
            double lossSum = 0;
            long count = 0;
            for (double[] totals : all) {
                lossSum += totals[0];
                count += (long) totals[1];
            }
            return new Totals(lossSum, count);
        } catch (IOException e) {
            throw new UncheckedIOException("gradient exchange of replica " + ring.rank() + " failed: "
                    + e.getMessage(), e);
        }
    }

    /**
     * {@code sync_ms}: the gradient all-reduce's wall time; {@code sync_cpu_ms}: the CPU time it took (sending and
     * receiving threads); {@code wait_ms}: waiting for the slowest replica's micro-batches.
     */
    @Override
    public Map<String, Object> lastStepMetrics() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sync_ms", syncNanos / 1e6);
        m.put("sync_cpu_ms", syncCpuNanos / 1e6);
        m.put("wait_ms", waitNanos / 1e6);
        return m;
    }

    /** {@code workers}: W, once in {@code results.json}. */
    @Override
    public Map<String, Object> facts() {
        return Map.of("workers", ring.size());
    }
}
