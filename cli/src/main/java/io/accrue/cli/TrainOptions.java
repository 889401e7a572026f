package io.accrue.cli;

import io.accrue.train.OptimizerKind;
import io.accrue.train.ScheduleKind;
import io.accrue.train.TrainConfig;
import picocli.CommandLine.Option;

import java.util.Locale;

/**
 * The options of {@code accrue train} that map onto {@link TrainConfig} (batch, schedule, optimizer, seed, threads):
 * a picocli mixin. Only the options given change the task's defaults ({@link io.accrue.run.TaskKind#defaults}, which
 * start from {@link TrainConfig.Builder}'s: the one place defaults live). Bad input throws an exception that
 * {@link ErrorHandlers} prints as one line with exit code 2.
 */
final class TrainOptions {
    @Option(names = {"-b", "--micro-batch"}, paramLabel = "B", description = "Examples per forward/backward pass. "
            + "Default: 8, 16 for fashion-mnist; chosen by --memory when given.")
    Integer microBatch;

    @Option(names = {"-k", "--accum"}, paramLabel = "K", description = "Micro-batches per optimizer step.")
    Integer accum;

    @Option(names = {"-n", "--effective-batch"}, paramLabel = "N", description = "Examples per optimizer step "
            + "(= K·B). Default: 64 unless --accum is given.")
    Integer effectiveBatch;

    @Option(names = "--lr", paramLabel = "LR", description = "Peak learning rate. Default: 1e-3, 2e-3 for "
            + "fashion-mnist.")
    Double lr;

    @Option(names = "--scale-lr", paramLabel = "BASE_BATCH", description = "Linear scaling rule: --lr is the rate "
            + "for a batch of BASE_BATCH; use lr·N/BASE_BATCH.")
    Integer scaleLr;

    @Option(names = "--max-lr", paramLabel = "LR", description = "With --scale-lr: the most the scaled rate may be, "
            + "min(lr·N/BASE_BATCH, LR). Default: no cap.")
    Double maxLr;

    @Option(names = "--min-lr", paramLabel = "LR", description = "Final rate of cosine/linear schedules. "
            + "Default: lr/10.")
    Double minLr;

    @Option(names = "--schedule", paramLabel = "KIND", description = "Learning-rate schedule: constant, cosine or "
            + "linear. Default: cosine.")
    String schedule;

    @Option(names = "--warmup", paramLabel = "STEPS", description = "Linear warmup steps (cosine, linear). "
            + "Default: 100, at most a tenth of --steps.")
    Integer warmup;

    @Option(names = "--steps", paramLabel = "STEPS", description = "Optimizer steps. Default: 3000 for the GPT "
            + "tasks, 1 epoch for fashion-mnist (if no --epochs).")
    Long steps;

    @Option(names = "--epochs", paramLabel = "E", description = "Passes over the data (instead of --steps).")
    Integer epochs;

    @Option(names = "--optimizer", paramLabel = "KIND", description = "adamw or sgd (momentum 0.9). Default: adamw.")
    String optimizer;

    @Option(names = "--weight-decay", paramLabel = "WD", description = "Weight decay on matrices. Default: 0.01.")
    Double weightDecay;

    @Option(names = "--clip", paramLabel = "NORM", description = "Global gradient-norm clip (Infinity: none). "
            + "Default: 1.0.")
    Double clip;

    @Option(names = "--seed", paramLabel = "SEED", description = "Seed of initialisation, data, shuffling and "
            + "dropout. Default: 1337.")
    Long seed;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: 1 for the adder model "
            + "(its matrices are too small to split), else all cores.")
    Integer threads;

    @Option(names = "--concurrent", paramLabel = "N|auto", description = "Micro-batches of a step run at once, each "
            + "on one of the threads (≤ --threads): fewer hand-offs between threads, for N micro-batches of "
            + "activations in memory. The same bits as 1. Default: auto (one per thread where that pays: a "
            + "micro-batch of 32-512 MiB of activations, two or more micro-batches per thread, no BatchNorm; and "
            + "when the plan fits this machine's memory or --memory).")
    String concurrent;

    /** Whether a batch size (B or K) was given, which {@code --memory} chooses itself. */
    boolean batchGiven() {
        return microBatch != null || accum != null;
    }

    /**
     * Applies the options given to {@code b} (which holds the task's defaults), after the checks that name the
     * options: {@code --steps} and {@code --epochs} exclude each other, K·B agrees with N, and B, K, N are positive.
     */
    void applyTo(TrainConfig.Builder b) {
        if (steps != null && epochs != null) {
            throw new UsageException("--steps " + steps + " and --epochs " + epochs + " exclude each other; give one");
        }
        positiveIfGiven("--micro-batch", microBatch);
        positiveIfGiven("--accum", accum);
        positiveIfGiven("--effective-batch", effectiveBatch);
        positiveIfGiven("--threads", threads);
        if (steps != null) {
            positive("--steps", steps);
        }
        if (microBatch != null) {
            b.microBatch(microBatch);
        }
        if (accum != null && effectiveBatch != null && (long) accum * b.microBatch() != effectiveBatch) {
            throw new UsageException("--accum " + accum + " × --micro-batch " + b.microBatch() + " = "
                    + (long) accum * b.microBatch() + " disagrees with --effective-batch " + effectiveBatch
                    + "; give only one of --accum and --effective-batch");
        }
        if (warmup != null && warmup < 0) {
            throw new UsageException("--warmup must be ≥ 0, got " + warmup);
        }
        ScheduleKind kind = schedule == null ? null
                : parseEnum(ScheduleKind.class, "--schedule", schedule, "constant, cosine or linear");
        OptimizerKind opt = optimizer == null ? null : parseEnum(OptimizerKind.class, "--optimizer", optimizer,
                "adamw or sgd");
        if (kind != ScheduleKind.CONSTANT && warmup != null && steps != null && warmup >= steps) {
            throw new UsageException("--warmup " + warmup + " must be less than --steps " + steps
                    + "; lower --warmup or use --schedule constant");
        }
        if (accum != null) {
            // as N = K·B, so that K replaces the N of a resumed run's configuration (TrainConfig.Builder#from)
            b.effectiveBatch(Math.multiplyExact(accum, b.microBatch()));
        } else if (effectiveBatch != null) {
            b.effectiveBatch(effectiveBatch);
        }
        if (epochs != null) {
            b.epochs(epochs);
        } else if (steps != null) {
            b.maxSteps(steps);
        }
        if (opt != null) {
            b.optimizer(opt);
            if (opt == OptimizerKind.SGD) {
                b.momentum(0.9);
            }
        }
        if (lr != null) {
            b.lr(lr);
        }
        if (maxLr != null && scaleLr == null) {
            throw new UsageException("--max-lr caps the rate of --scale-lr; give --scale-lr BASE_BATCH too, or set "
                    + "the rate with --lr");
        }
        if (maxLr != null && !(maxLr > 0 && Double.isFinite(maxLr))) {
            throw new UsageException("--max-lr must be a positive number, got " + maxLr);
        }
        if (scaleLr != null) {
            b.linearScaling(scaleLr, maxLr != null ? maxLr : Double.POSITIVE_INFINITY);
        }
        if (kind != null) {
            b.schedule(kind);
        }
        if (warmup != null) {
            b.warmupSteps(warmup);
        }
        if (minLr != null) {
            b.minLr(minLr);
        }
        if (weightDecay != null) {
            b.weightDecay(weightDecay);
        }
        if (clip != null) {
            b.clipNorm(clip);
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (threads != null) {
            b.threads(threads);
        }
        b.concurrentMicroBatches(concurrentMicroBatches(concurrent));
    }

    /** {@code --concurrent}: a positive count, or {@code auto} (also when not given). */
    static int concurrentMicroBatches(String option) {
        if (option == null || option.equalsIgnoreCase("auto")) {
            return TrainConfig.AUTO_CONCURRENT;
        }
        try {
            int n = Integer.parseInt(option.strip());
            positive("--concurrent", n);
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--concurrent: '" + option + "' is neither a count nor auto; use e.g. 2 or auto");
        }
    }

    static <E extends Enum<E>> E parseEnum(Class<E> type, String option, String value, String choices) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + ": unknown value '" + value + "'; use " + choices);
        }
    }

    static void positive(String option, long v) {
        if (v <= 0) {
            throw new UsageException(option + " must be a positive integer, got " + v);
        }
    }

    /** {@link #positive} when the option was given. */
    static void positiveIfGiven(String option, Integer v) {
        if (v != null) {
            positive(option, v);
        }
    }
}
