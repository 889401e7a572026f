package io.accrue.spark;

import io.accrue.train.OptimizerKind;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The executor side: idle worker trainers of this JVM, by recipe and micro-batch size. Spark tasks are stateless
 * functions, so building a model per task would cost its whole initialisation every step; a worker is taken for
 * one task and handed back only when the task succeeded (a failed attempt's buffers are dropped). This per-JVM
 * cache is the one exception to "no global pools": it is Spark's executor lifetime, not the library's.
 */
final class Workers {
    private record Key(WorkerRecipe<?> recipe, int microBatch) {
    }

    private static final Map<Key, ConcurrentLinkedDeque<Trainer<?>>> IDLE = new ConcurrentHashMap<>();

    private Workers() {
    }

    /**
     * Runs {@code microBatches} of {@code epoch} (dropout's key) on a worker whose weights are {@code weights}, from
     * zero gradients, and returns its raw sums.
     */
    static <I> PartialSum run(WorkerRecipe<I> recipe, int microBatch, int threads, int partition, int epoch,
                              int[][] microBatches, float[] weights) {
        Key key = new Key(recipe, microBatch);
        @SuppressWarnings("unchecked")
        Trainer<I> worker = (Trainer<I>) IDLE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).poll();
        if (worker == null) {
            worker = create(recipe, microBatch, threads);
        }
        var store = worker.model().parameters();
        if (weights.length != store.size()) {
            throw new IllegalStateException("broadcast holds " + weights.length + " weights, the worker's model has "
                    + store.size() + ": driver and executors build different models");
        }
        System.arraycopy(weights, 0, store.values(), 0, weights.length);
        store.zeroGrad();
        long t0 = System.nanoTime();
        var totals = worker.accumulate(epoch, java.util.Arrays.asList(microBatches));
        long nanos = System.nanoTime() - t0;
        PartialSum out = new PartialSum(partition, store.grads().clone(), totals.lossSum(), totals.count(), nanos);
        IDLE.get(key).push(worker);
        return out;
    }

    /**
     * A trainer that only accumulates: its step boundary is never taken, so it gets SGD without momentum, which
     * holds no optimizer state.
     */
    private static <I> Trainer<I> create(WorkerRecipe<I> recipe, int microBatch, int threads) {
        TrainConfig config = TrainConfig.builder().microBatch(microBatch).accumulationSteps(1).maxSteps(1).shuffle(false)
                .optimizer(OptimizerKind.SGD).momentum(0).threads(threads).build();
        return new Trainer<>(config, recipe.model(), recipe.data());
    }

    /** Closes and forgets every idle worker of this JVM (their thread teams are daemons; this frees memory). */
    static void closeAll() {
        for (ConcurrentLinkedDeque<Trainer<?>> q : IDLE.values()) {
            for (Trainer<?> t; (t = q.poll()) != null; ) {
                t.close();
            }
        }
        IDLE.clear();
    }
}
