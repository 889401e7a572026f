package io.accrue.train;

import io.accrue.tensor.ParameterStore;

import java.util.List;
import java.util.Map;

/**
 * Where the workers of a data-parallel step meet: before the step boundary divides (law 2), every worker's raw
 * gradient sum and count are added together, so the step divides the global sum by the global count once.
 *
 * <p>Call order per optimizer step, from {@link Trainer}: {@link #local} picks the window's micro-batches this
 * process runs; the trainer runs them (forward/backward adds into {@code store.grads()}); {@link #sum} combines;
 * the step boundary follows. {@link #SINGLE} is the one-worker case: it runs every micro-batch here and adds
 * nothing, so a single-machine run is this same path with N = 1.
 *
 * <p>A multi-worker implementation must add the workers' sums in a fixed order (worker index, never arrival
 * order), so a run gives the same bits every time. Its result is not bit-identical to one process: adding
 * per-worker partial sums splits law 3's single chain per element at the worker boundaries (fp32 rounding).
 */
public interface GradientSync {

    /**
     * The window's totals besides the gradients.
     *
     * @param lossSum raw sum of the per-example (per-token) losses
     * @param count   examples or tokens that contributed
     */
    record Totals(double lossSum, long count) {
    }

    /** One worker: runs the whole window here, nothing to add. */
    GradientSync SINGLE = new GradientSync() {
        @Override
        public List<int[]> local(List<int[]> microBatches) {
            return microBatches;
        }

        @Override
        public Totals sum(ParameterStore store, List<int[]> microBatches, Totals local) {
            return local;
        }
    };

    /** The micro-batches, of the window's {@code microBatches} (in window order), that this process runs. */
    List<int[]> local(List<int[]> microBatches);

    /**
     * Adds the other workers' raw gradient sums into {@code store.grads()} (the whole buffer, tied-use slots
     * included, before they are folded) and returns the global totals.
     *
     * @param store        holds this process's raw sums on entry, the global raw sums on return
     * @param microBatches all micro-batches of the window, in window order
     * @param local        this process's totals over {@link #local}
     */
    Totals sum(ParameterStore store, List<int[]> microBatches, Totals local);

    /**
     * {@link #sum(ParameterStore, List, Totals)} for a window of {@code epoch}, which keys dropout (law 5): what
     * {@link Trainer} calls. Workers that run micro-batches must run them in that epoch
     * ({@link Trainer#accumulate(int, List)}); the default ignores it, right for an implementation whose workers
     * run no dropout.
     */
    default Totals sum(ParameterStore store, int epoch, List<int[]> microBatches, Totals local) {
        return sum(store, microBatches, local);
    }

    /**
     * Figures of the last {@link #sum} for the step's line of {@code metrics.jsonl} (e.g. {@code sync_ms}), by
     * name; numbers, strings or booleans. None for one worker.
     */
    default Map<String, Object> lastStepMetrics() {
        return Map.of();
    }

    /** What stays the same for the whole run (e.g. the number of workers), for {@code results.json}. */
    default Map<String, Object> facts() {
        return Map.of();
    }
}
