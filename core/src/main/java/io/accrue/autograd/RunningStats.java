package io.accrue.autograd;

import java.util.Arrays;

/**
 * Batch norm's running statistics per channel: {@code running = (1 − momentum)·running + momentum·batch},
 * updated by {@link BatchNormOp} in training mode (mean with the batch mean, var with the unbiased batch
 * variance, like PyTorch) and used in its place in eval mode.
 *
 * <p>Starts at mean 0, var 1. The arrays are live state, returned without copying so that a checkpoint can
 * save and restore them.
 */
public final class RunningStats {
    /** PyTorch's default momentum. */
    public static final float DEFAULT_MOMENTUM = 0.1f;

    private final float[] mean; // (C)
    private final float[] var; // (C)
    private final float momentum;

    public RunningStats(int channels, float momentum) {
        if (channels <= 0) {
            throw new IllegalArgumentException("running stats: channels must be positive, got " + channels);
        }
        if (!(momentum >= 0f && momentum <= 1f)) {
            throw new IllegalArgumentException("running stats: momentum must be in [0, 1], got " + momentum);
        }
        this.mean = new float[channels];
        this.var = new float[channels];
        Arrays.fill(var, 1f);
        this.momentum = momentum;
    }

    /** Running stats with the default momentum 0.1. */
    public RunningStats(int channels) {
        this(channels, DEFAULT_MOMENTUM);
    }

    public int channels() {
        return mean.length;
    }

    /** The running mean per channel, live (not a copy). */
    public float[] mean() {
        return mean;
    }

    /** The running (unbiased) variance per channel, live (not a copy). */
    public float[] var() {
        return var;
    }

    public float momentum() {
        return momentum;
    }

    /** Blends one channel's batch statistics in: {@code running = (1 − momentum)·running + momentum·batch}. */
    void update(int channel, float batchMean, float batchUnbiasedVar) {
        mean[channel] = (1f - momentum) * mean[channel] + momentum * batchMean;
        var[channel] = (1f - momentum) * var[channel] + momentum * batchUnbiasedVar;
    }
}
