package io.accrue.train;

import io.accrue.optim.LinearScaling;

/**
 * Everything a training run is configured by, validated at construction; messages name the field and value.
 *
 * <p>Set the micro-batch B and either the accumulation steps K or the effective batch N = K·B (0 means
 * "derive": K = N / B, or N = K·B; neither set gives K = 1). Build one with {@link #builder()}.
 *
 * @param microBatch           B, examples per forward/backward pass
 * @param accumulationSteps    K, micro-batches per optimizer step
 * @param effectiveBatch       N = K·B, examples per optimizer step
 * @param epochs               passes over the data (0: bounded by maxSteps only)
 * @param maxSteps             optimizer steps (windows) to run (0: bounded by epochs only)
 * @param dropLast             drop an epoch's last partial window instead of stepping on it
 * @param shuffle              keyed shuffle of each epoch (else dataset order)
 * @param optimizer            AdamW or SGD
 * @param lr                   peak learning rate
 * @param weightDecay          decoupled (AdamW) or L2 (SGD) weight decay on matrices
 * @param momentum             SGD momentum
 * @param beta1                AdamW β1
 * @param beta2                AdamW β2
 * @param adamEps              AdamW ε
 * @param schedule             learning-rate schedule, advanced once per optimizer step
 * @param warmupSteps          linear warmup steps for cosine/linear schedules; {@link #AUTO_WARMUP}: 100, at most a
 *                             tenth of the planned steps ({@link #warmupSteps(long)})
 * @param minLr                final learning rate for cosine/linear schedules
 * @param clipNorm             global gradient-norm clip, applied per optimizer step (+∞: no clipping)
 * @param seed                 seed of initialisation, shuffling and dropout
 * @param threads              compute threads
 * @param accumulationSchedule K changing at given steps/epochs, or null
 * @param concurrentMicroBatches micro-batches of a window run at once, each on one thread (1: one at a time, on
 *                             all threads); more than 1 trades that many micro-batches of activations for fewer
 *                             hand-offs between threads, and changes no bit; {@link #AUTO_CONCURRENT}: chosen by
 *                             {@link MicroBatchLanes} against the memory plan (the run layer resolves it before
 *                             building the {@link Trainer})
 */
public record TrainConfig(int microBatch, int accumulationSteps, int effectiveBatch, int epochs, long maxSteps,
                          boolean dropLast, boolean shuffle, OptimizerKind optimizer, double lr, double weightDecay,
                          double momentum, double beta1, double beta2, double adamEps, ScheduleKind schedule,
                          int warmupSteps, double minLr, double clipNorm, long seed, int threads,
                          AccumulationSchedule accumulationSchedule, int concurrentMicroBatches) {

    public TrainConfig {
        if (microBatch <= 0) {
            throw new IllegalArgumentException("microBatch must be positive, got " + microBatch);
        }
        if (accumulationSteps < 0) {
            throw new IllegalArgumentException("accumulationSteps must be positive, got " + accumulationSteps);
        }
        if (effectiveBatch < 0) {
            throw new IllegalArgumentException("effectiveBatch must be positive, got " + effectiveBatch);
        }
        if (accumulationSteps == 0 && effectiveBatch == 0) {
            accumulationSteps = 1;
        }
        if (accumulationSteps == 0) {
            if (effectiveBatch % microBatch != 0) {
                int lower = Math.max(1, effectiveBatch / microBatch) * microBatch;
                throw new IllegalArgumentException("effectiveBatch " + effectiveBatch + " is not divisible by microBatch "
                        + microBatch + "; use effectiveBatch " + lower + " or " + (lower + microBatch)
                        + ", or a microBatch that divides " + effectiveBatch);
            }
            accumulationSteps = effectiveBatch / microBatch;
        }
        if ((long) accumulationSteps * microBatch > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("effective batch " + (long) accumulationSteps * microBatch
                    + " is too large");
        }
        if (effectiveBatch == 0) {
            effectiveBatch = accumulationSteps * microBatch;
        } else if (effectiveBatch != accumulationSteps * microBatch) {
            throw new IllegalArgumentException("effectiveBatch " + effectiveBatch + " disagrees with accumulationSteps "
                    + accumulationSteps + " × microBatch " + microBatch + " = " + accumulationSteps * microBatch
                    + "; set only one of them");
        }
        if (epochs < 0 || maxSteps < 0 || (epochs == 0 && maxSteps == 0)) {
            throw new IllegalArgumentException("set epochs or maxSteps to a positive value, got epochs=" + epochs
                    + " maxSteps=" + maxSteps);
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must be set");
        }
        positiveFinite("lr", lr);
        nonNegative("weightDecay", weightDecay);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        }
        positiveFinite("adamEps", adamEps);
        if (schedule == null) {
            throw new IllegalArgumentException("schedule must be set");
        }
        if (warmupSteps < AUTO_WARMUP) {
            throw new IllegalArgumentException("warmupSteps must be ≥ 0, got " + warmupSteps);
        }
        nonNegative("minLr", minLr);
        if (minLr > lr) {
            throw new IllegalArgumentException("minLr " + minLr + " exceeds lr " + lr);
        }
        if (!(clipNorm > 0)) {
            throw new IllegalArgumentException("clipNorm must be positive (or +Infinity for no clipping), got "
                    + clipNorm);
        }
        if (threads <= 0 || threads > 256) {
            throw new IllegalArgumentException("threads must be in [1, 256], got " + threads);
        }
        if (concurrentMicroBatches < AUTO_CONCURRENT || concurrentMicroBatches > threads) {
            throw new IllegalArgumentException("concurrentMicroBatches must be in [1, threads = " + threads + "], got "
                    + concurrentMicroBatches + "; each runs on a thread of its own");
        }
    }

    private static void positiveFinite(String field, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(field + " must be a positive finite number, got " + v);
        }
    }

    private static void nonNegative(String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(field + " must be a finite number ≥ 0, got " + v);
        }
    }

    /** This configuration with micro-batch B = {@code b} and K = {@code k} (the effective batch becomes K·B). */
    public TrainConfig withBatch(int b, int k) {
        return new TrainConfig(b, k, 0, epochs, maxSteps, dropLast, shuffle, optimizer, lr, weightDecay, momentum,
                beta1, beta2, adamEps, schedule, warmupSteps, minLr, clipNorm, seed, threads, accumulationSchedule,
                concurrentMicroBatches);
    }

    /** This configuration with {@code n} micro-batches run at once ({@link #concurrentMicroBatches}). */
    public TrainConfig withConcurrentMicroBatches(int n) {
        return new TrainConfig(microBatch, accumulationSteps, 0, epochs, maxSteps, dropLast, shuffle, optimizer, lr,
                weightDecay, momentum, beta1, beta2, adamEps, schedule, warmupSteps, minLr, clipNorm, seed, threads,
                accumulationSchedule, n);
    }

    /** {@link #concurrentMicroBatches} left to Accrue: {@link MicroBatchLanes#choose} resolves it. */
    public static final int AUTO_CONCURRENT = 0;

    /** {@link #warmupSteps} when none is set: 100 steps, at most a tenth of the run's planned steps. */
    public static final int AUTO_WARMUP = -1;

    /** The warmup steps of a run of {@code plannedSteps} optimizer steps ({@link #AUTO_WARMUP} resolved). */
    public int warmupSteps(long plannedSteps) {
        return warmupSteps != AUTO_WARMUP ? warmupSteps
                : (int) Math.min(Builder.DEFAULT_WARMUP, plannedSteps / 10);
    }

    /** K for the window of optimizer step {@code step} starting in {@code epoch}. */
    public int accumulationStepsAt(long step, int epoch) {
        return accumulationSchedule == null ? accumulationSteps : accumulationSchedule.k(step, epoch, accumulationSteps);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The defaults of every front end — the library, {@code accrue train} and Spark — in one place (the run layer's
     * tasks change a few of them, e.g. Fashion-MNIST's micro-batch and rate): micro-batch B = 8 in an effective batch
     * of N = 64 (K = 8), one epoch, AdamW (lr 1e-3, β 0.9/0.999, ε 1e-8, weight decay 0.01 on matrices), warmup then
     * cosine decay to lr/10 (warmup 100 steps, at most a tenth of {@code maxSteps}), global-norm clip 1.0, seed 1337,
     * all cores, one micro-batch at a time.
     */
    public static final class Builder {
        /** Warmup steps when none are set: 100, at most a tenth of the planned steps. */
        public static final int DEFAULT_WARMUP = 100;
        private int microBatch = 8;
        private int accumulationSteps;
        private int effectiveBatch;
        private int epochs = 1;
        private long maxSteps;
        private boolean dropLast;
        private boolean shuffle = true;
        private OptimizerKind optimizer = OptimizerKind.ADAMW;
        private double lr = 1e-3;
        private double weightDecay = 0.01;
        private double momentum;
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double adamEps = 1e-8;
        private ScheduleKind schedule = ScheduleKind.COSINE;
        private Integer warmupSteps;
        private Double minLr;
        private double clipNorm = 1.0;
        private long seed = 1337;
        private int threads = Runtime.getRuntime().availableProcessors();
        private int concurrentMicroBatches = 1;
        private AccumulationSchedule accumulationSchedule;
        private int scalingBaseBatch;
        private double scalingMaxLr = Double.POSITIVE_INFINITY;

        public Builder microBatch(int v) {
            microBatch = v;
            return this;
        }

        /** The micro-batch B set so far (the default until set). */
        public int microBatch() {
            return microBatch;
        }

        public Builder accumulationSteps(int v) {
            if (v <= 0) {
                throw new IllegalArgumentException("accumulationSteps must be positive, got " + v);
            }
            accumulationSteps = v;
            return this;
        }

        public Builder effectiveBatch(int v) {
            if (v <= 0) {
                throw new IllegalArgumentException("effectiveBatch must be positive, got " + v);
            }
            effectiveBatch = v;
            return this;
        }

        /**
         * This builder holding {@code c}'s values, to change some: B and the effective batch N (K = N/B follows, so a
         * new B keeps N), the rate as it stands (a linear scaling rule already applied), every other field as is.
         */
        public Builder from(TrainConfig c) {
            microBatch = c.microBatch();
            accumulationSteps = 0;
            effectiveBatch = c.effectiveBatch();
            epochs = c.epochs();
            maxSteps = c.maxSteps();
            dropLast = c.dropLast();
            shuffle = c.shuffle();
            optimizer = c.optimizer();
            lr = c.lr();
            weightDecay = c.weightDecay();
            momentum = c.momentum();
            beta1 = c.beta1();
            beta2 = c.beta2();
            adamEps = c.adamEps();
            schedule = c.schedule();
            warmupSteps = c.warmupSteps();
            minLr = c.minLr();
            clipNorm = c.clipNorm();
            seed = c.seed();
            threads = c.threads();
            accumulationSchedule = c.accumulationSchedule();
            concurrentMicroBatches = c.concurrentMicroBatches();
            scalingBaseBatch = 0;
            scalingMaxLr = Double.POSITIVE_INFINITY;
            return this;
        }

        /** Train for this many epochs (replaces a step limit, like Hugging Face's num_train_epochs). */
        public Builder epochs(int v) {
            epochs = v;
            maxSteps = 0;
            return this;
        }

        /** Train for this many optimizer steps, across epochs as needed (overrides epochs, like max_steps). */
        public Builder maxSteps(long v) {
            maxSteps = v;
            epochs = 0;
            return this;
        }

        public Builder dropLast(boolean v) {
            dropLast = v;
            return this;
        }

        public Builder shuffle(boolean v) {
            shuffle = v;
            return this;
        }

        public Builder optimizer(OptimizerKind v) {
            optimizer = v;
            return this;
        }

        public Builder lr(double v) {
            lr = v;
            return this;
        }

        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        public Builder momentum(double v) {
            momentum = v;
            return this;
        }

        public Builder betas(double b1, double b2) {
            beta1 = b1;
            beta2 = b2;
            return this;
        }

        public Builder adamEps(double v) {
            adamEps = v;
            return this;
        }

        public Builder schedule(ScheduleKind kind, int warmup, double minLearningRate) {
            schedule = kind;
            warmupSteps = warmup;
            minLr = minLearningRate;
            return this;
        }

        /** The schedule's kind, with the default warmup and final rate (0 and lr for a constant rate). */
        public Builder schedule(ScheduleKind kind) {
            schedule = kind;
            return this;
        }

        public Builder warmupSteps(int v) {
            warmupSteps = v;
            return this;
        }

        public Builder minLr(double v) {
            minLr = v;
            return this;
        }

        public Builder clipNorm(double v) {
            clipNorm = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder threads(int v) {
            threads = v;
            return this;
        }

        public Builder accumulationSchedule(AccumulationSchedule v) {
            accumulationSchedule = v;
            return this;
        }

        /**
         * The linear scaling rule (Goyal et al.): {@link #lr} is the rate for an effective batch of
         * {@code baseBatch}; the configuration's rate is lr·N/baseBatch ({@link LinearScaling#scale}).
         */
        public Builder linearScaling(int baseBatch) {
            if (baseBatch <= 0) {
                throw new IllegalArgumentException("linear scaling base batch must be positive, got " + baseBatch);
            }
            scalingBaseBatch = baseBatch;
            return this;
        }

        /** {@link #linearScaling(int)} capped: the rate is min(lr·N/baseBatch, maxLr). */
        public Builder linearScaling(int baseBatch, double maxLr) {
            if (!(maxLr > 0)) {
                throw new IllegalArgumentException("linear scaling cap maxLr must be > 0, got " + maxLr);
            }
            scalingMaxLr = maxLr;
            return linearScaling(baseBatch);
        }

        public Builder concurrentMicroBatches(int v) {
            concurrentMicroBatches = v;
            return this;
        }

        /** The effective batch when neither K nor N is set. */
        public static final int DEFAULT_EFFECTIVE_BATCH = 64;

        /** The configuration; without K or N the effective batch is {@link #DEFAULT_EFFECTIVE_BATCH}. */
        public TrainConfig build() {
            boolean constant = schedule == ScheduleKind.CONSTANT;
            int warmup = warmupSteps != null ? warmupSteps : constant ? 0 : AUTO_WARMUP;
            int n = effectiveBatch;
            if (accumulationSteps == 0 && effectiveBatch == 0) {
                if (microBatch > 0 && DEFAULT_EFFECTIVE_BATCH % microBatch != 0) {
                    throw new IllegalArgumentException("the default effective batch " + DEFAULT_EFFECTIVE_BATCH
                            + " is not divisible by microBatch " + microBatch + "; set effectiveBatch or "
                            + "accumulationSteps");
                }
                n = DEFAULT_EFFECTIVE_BATCH;
            }
            double peak = scalingBaseBatch == 0 ? lr
                    : LinearScaling.scale(lr, scalingBaseBatch, n > 0 ? n : accumulationSteps * microBatch,
                    scalingMaxLr);
            double finalLr = minLr != null ? minLr : constant ? 0 : peak / 10;
            return new TrainConfig(microBatch, accumulationSteps, n, epochs, maxSteps, dropLast, shuffle,
                    optimizer, peak, weightDecay, momentum, beta1, beta2, adamEps, schedule, warmup, finalLr, clipNorm,
                    seed, threads, accumulationSchedule, concurrentMicroBatches);
        }
    }
}
