package io.accrue.cli;

import io.accrue.optim.LinearScaling;
import io.accrue.train.OptimizerKind;
import io.accrue.train.ScheduleKind;
import io.accrue.train.TrainConfig;
import picocli.CommandLine.Option;

import java.util.Locale;

/**
 * The options of {@code accrue train} that map onto {@link TrainConfig} (batch, schedule, optimizer, seed): a
 * picocli mixin, public so that the Spark launcher offers the same names, defaults, checks and messages. Bad
 * input throws an exception that {@link ErrorHandlers} prints as one line with exit code 2.
 */
public final class TrainOptions {
    /**
     * The peak learning rate of the GPT tasks without {@code --lr}: with 3000 steps the default job reached 100%
     * held-out exact match for each of the seeds 1337, 2, 3 and 4; 3e-3 for 1500 steps reached 9–97% by seed.
     */
    static final double GPT_LR = 1e-3;

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

    @Option(names = "--min-lr", paramLabel = "LR", description = "Final rate of cosine/linear schedules. "
            + "Default: lr/10.")
    Double minLr;

    @Option(names = "--schedule", paramLabel = "KIND", defaultValue = "cosine",
            description = "Learning-rate schedule: constant, cosine or linear.")
    String schedule;

    @Option(names = "--warmup", paramLabel = "STEPS", description = "Linear warmup steps (cosine, linear). "
            + "Default: 100, at most a tenth of --steps.")
    Integer warmup;

    @Option(names = "--steps", paramLabel = "STEPS", description = "Optimizer steps. Default: 3000 for the GPT "
            + "tasks, 1 epoch for fashion-mnist (if no --epochs).")
    Long steps;

    @Option(names = "--epochs", paramLabel = "E", description = "Passes over the data (instead of --steps).")
    Integer epochs;

    @Option(names = "--optimizer", paramLabel = "KIND", defaultValue = "adamw", description = "adamw or sgd.")
    String optimizer;

    @Option(names = "--weight-decay", paramLabel = "WD", defaultValue = "0.01",
            description = "Weight decay on matrices.")
    double weightDecay;

    @Option(names = "--clip", paramLabel = "NORM", defaultValue = "1.0",
            description = "Global gradient-norm clip (Infinity: none).")
    double clip;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1337",
            description = "Seed of initialisation, data, shuffling and dropout.")
    long seed;

    @Option(names = "--concurrent", paramLabel = "N", defaultValue = "1", description = "Micro-batches of a step "
            + "run at once, each on one of the threads (≤ --threads): fewer hand-offs between threads, for N "
            + "micro-batches of activations in memory. The same bits as 1.")
    int concurrent;

    /** Micro-batches run at once ({@code --concurrent}). */
    public int concurrent() {
        return concurrent;
    }

    /** The seed of initialisation, data, shuffling and dropout. */
    public long seed() {
        return seed;
    }

    /**
     * The micro-batch B ({@code --micro-batch}, else {@code fallback}) after the checks that need no task:
     * {@code --steps} and {@code --epochs} exclude each other, K·B agrees with N, and B, K, N are positive.
     */
    public int checkedMicroBatch(int fallback) {
        if (steps != null && epochs != null) {
            throw new UsageException("--steps " + steps + " and --epochs " + epochs + " exclude each other; give one");
        }
        int b = microBatch != null ? microBatch : fallback;
        if (accum != null && effectiveBatch != null && (long) accum * b != effectiveBatch) {
            throw new UsageException("--accum " + accum + " × --micro-batch " + b + " = "
                    + (long) accum * b + " disagrees with --effective-batch " + effectiveBatch
                    + "; give only one of --accum and --effective-batch");
        }
        positive("--micro-batch", b);
        positiveIfGiven("--accum", accum);
        positiveIfGiven("--effective-batch", effectiveBatch);
        return b;
    }

    /** The effective batch N: {@code --effective-batch}, else K·B, else 64. */
    public int effectiveBatch(int b) {
        return effectiveBatch != null ? effectiveBatch : accum != null ? accum * b : 64;
    }

    public ScheduleKind scheduleKind() {
        return parseEnum(ScheduleKind.class, "--schedule", schedule, "constant, cosine or linear");
    }

    public OptimizerKind optimizerKind() {
        return parseEnum(OptimizerKind.class, "--optimizer", optimizer, "adamw or sgd");
    }

    /**
     * The configuration for micro-batch {@code b} and {@code k} micro-batches a step (null: K from N).
     *
     * @param defaultLr     the peak rate without {@code --lr} (before the scaling rule)
     * @param defaultEpochs without {@code --steps} and {@code --epochs}: one epoch (true) or 3000 steps
     */
    public TrainConfig config(int b, Integer k, int n, int threads, double defaultLr, boolean defaultEpochs) {
        ScheduleKind kind = scheduleKind();
        OptimizerKind opt = optimizerKind();
        int warm = warmup != null ? warmup : steps != null ? (int) Math.min(100, steps / 10) : 100;
        if (warmup != null && warmup < 0) {
            throw new UsageException("--warmup must be ≥ 0, got " + warmup);
        }
        if (kind != ScheduleKind.CONSTANT && steps != null && warm >= steps) {
            throw new UsageException("--warmup " + warm + " must be less than --steps " + steps
                    + "; lower --warmup or use --schedule constant");
        }
        double base = lr != null ? lr : defaultLr;
        double peak = scaleLr == null ? base : LinearScaling.scale(base, scaleLr, n);
        TrainConfig.Builder cb = TrainConfig.builder().microBatch(b).optimizer(opt).lr(peak)
                .weightDecay(weightDecay).clipNorm(clip).seed(seed).threads(threads)
                .concurrentMicroBatches(concurrent)
                .schedule(kind, kind == ScheduleKind.CONSTANT ? 0 : warm,
                        minLr != null ? minLr : kind == ScheduleKind.CONSTANT ? 0 : peak / 10);
        if (opt == OptimizerKind.SGD) {
            cb.momentum(0.9);
        }
        if (k != null) {
            cb.accumulationSteps(k);
        } else {
            cb.effectiveBatch(n);
        }
        if (epochs != null) {
            cb.epochs(epochs);
        } else if (steps != null) {
            cb.maxSteps(steps);
        } else if (defaultEpochs) {
            cb.epochs(1);
        } else {
            cb.maxSteps(3000);
        }
        return cb.build();
    }

    /**
     * A GPT run's configuration from these options alone (no memory plan): B = {@code --micro-batch} or
     * {@code fallbackMicroBatch}, K = {@code --accum} or N/B, the GPT tasks' defaults (lr 1e-3, 3000 steps).
     */
    public TrainConfig gptConfig(int fallbackMicroBatch, int threads) {
        int b = checkedMicroBatch(fallbackMicroBatch);
        return config(b, accum, effectiveBatch(b), threads, GPT_LR, false);
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
