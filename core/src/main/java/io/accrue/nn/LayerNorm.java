package io.accrue.nn;

import io.accrue.autograd.LayerNormOp;
import io.accrue.autograd.Tape;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

/** Layer normalization over the last dimension, per example (or token). */
public final class LayerNorm extends AffineNorm {
    /** The epsilon added to the variance (PyTorch's default), which an imported model must share. */
    public static final float EPS = AffineNorm.EPS;

    public LayerNorm(ParameterStore store, String name, int channels) {
        super(store, name, channels, true);
    }

    @Override
    public Tensor forward(Tape tape, Tensor x) {
        return LayerNormOp.forward(tape, x, gain(), shift(), EPS);
    }
}
