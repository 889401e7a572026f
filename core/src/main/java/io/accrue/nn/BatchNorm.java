package io.accrue.nn;

import io.accrue.autograd.BatchNormOp;
import io.accrue.autograd.RunningStats;
import io.accrue.autograd.Tape;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

/**
 * Batch normalization. Its training statistics are those of ONE micro-batch, so gradient accumulation over K
 * micro-batches is not equivalent to one K·B batch: the trainer warns, and GroupNorm/LayerNorm are exact.
 */
public final class BatchNorm extends AffineNorm {
    private final RunningStats stats;

    public BatchNorm(ParameterStore store, String name, int channels) {
        super(store, name, channels, true);
        this.stats = new RunningStats(channels, 0.1f);
        store.registerBuffer(Module.join(name, "running_mean"), stats.mean());
        store.registerBuffer(Module.join(name, "running_var"), stats.var());
    }

    @Override
    public Tensor forward(Tape tape, Tensor x) {
        return BatchNormOp.forward(tape, x, gain(), shift(), stats, EPS);
    }

    /** Running mean and variance, saved with checkpoints as the store's buffers {@code <name>.running_mean/var}. */
    public RunningStats stats() {
        return stats;
    }

    @Override
    public boolean mixesExamples() {
        return true;
    }
}
