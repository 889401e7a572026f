package io.accrue.nn;

import io.accrue.autograd.RmsNormOp;
import io.accrue.autograd.Tape;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

/** RMS normalization over the last dimension (gain only), per example (or token). */
public final class RmsNorm extends AffineNorm {
    public RmsNorm(ParameterStore store, String name, int channels) {
        super(store, name, channels, false);
    }

    @Override
    public Tensor forward(Tape tape, Tensor x) {
        return RmsNormOp.forward(tape, x, gain(), EPS);
    }
}
