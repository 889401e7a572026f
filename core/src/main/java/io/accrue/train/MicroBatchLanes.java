package io.accrue.train;

import java.util.function.IntPredicate;

/**
 * How many micro-batches of a window run at once ({@link TrainConfig#concurrentMicroBatches}) when the user leaves it
 * to Accrue ({@link TrainConfig#AUTO_CONCURRENT}).
 *
 * <p>Splitting every kernel of one micro-batch between the threads makes them wait for each other at each kernel's
 * end; N micro-batches side by side, each on a thread of its own, meet only at the gradient sums' turns
 * ({@link MicroBatchOrder}) and give the same bits, for N micro-batches of activations instead of one. Measured on 2
 * threads (BENCHMARKS.md, "Concurrent micro-batches chosen automatically"), that pays only for kernels of middling
 * size, which a micro-batch's activations measure, and only over at least two rounds of micro-batches per lane: the
 * {@code small} GPT at B = 1 to 8 (60–380 MiB of activations, K ≥ 4) ran 9–12% faster. Below 32 MiB (the
 * {@code tiny} GPT, the MLP, the plain CNN) the lanes' turns cost more than the hand-offs they save (0.60–0.94×); at
 * 1.1 GiB (gpt2 at B = 1) each kernel is long enough to split well and two lanes only compete for the caches
 * (0.90×); and a window of one round per lane (the residual CNN at B = 32, K = 2) never fills the lanes' pipeline.
 * So: one lane per thread when there are at least two, when a micro-batch's activations lie in
 * {@link #MIN_ACTIVATION_BYTES}..{@link #MAX_ACTIVATION_BYTES}, when each lane gets at least two micro-batches (the
 * same number, or enough that the last uneven round is small), when the model does not mix the examples of a
 * micro-batch (BatchNorm's running statistics are updated micro-batch by micro-batch in turn), and when the plan
 * with that many lanes fits the memory at hand; otherwise one at a time.
 */
public final class MicroBatchLanes {
    /** A micro-batch's activations below which lanes do not pay. */
    public static final long MIN_ACTIVATION_BYTES = 32L << 20;
    /** A micro-batch's activations above which lanes do not pay. */
    public static final long MAX_ACTIVATION_BYTES = 512L << 20;
    /** Rounds of micro-batches per lane below which the lanes' pipeline never fills. */
    private static final int MIN_ROUNDS = 2;
    /** Rounds of micro-batches per lane from which an uneven last round costs little (K ≥ 4 lanes). */
    private static final int ROUNDS_FOR_UNEVEN = 4;

    private MicroBatchLanes() {
    }

    /**
     * The lanes for a window of {@code accumulation} micro-batches on {@code threads} threads, each micro-batch
     * holding {@code activationBytes} of activations (the one-lane plan's): the most, from min(threads, K / 2) down
     * to 2, that divide K (or that K holds at least 4 rounds of) and for which {@code fits} says the memory plan fits;
     * 1 when none does, for activations outside the range where lanes pay, or for a model that
     * {@code mixesExamples}.
     */
    public static int choose(int threads, int accumulation, boolean mixesExamples, long activationBytes,
                             IntPredicate fits) {
        if (mixesExamples || activationBytes < MIN_ACTIVATION_BYTES || activationBytes > MAX_ACTIVATION_BYTES) {
            return 1;
        }
        for (int n = Math.min(threads, accumulation / MIN_ROUNDS); n >= 2; n--) {
            boolean even = accumulation % n == 0 || accumulation >= ROUNDS_FOR_UNEVEN * n;
            if (even && fits.test(n)) {
                return n;
            }
        }
        return 1;
    }
}
