package io.accrue.nn;

import io.accrue.autograd.GroupNormOp;
import io.accrue.autograd.Tape;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

/** Group normalization: per example, statistics over each group of channels (and spatial positions). */
public final class GroupNorm extends AffineNorm {
    private final int groups;

    public GroupNorm(ParameterStore store, String name, int channels, int groups) {
        super(store, name, channels, true);
        if (groups <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException("group norm '" + name + "': " + channels
                    + " channels are not divisible into " + groups + " groups");
        }
        this.groups = groups;
    }

    @Override
    public Tensor forward(Tape tape, Tensor x) {
        return GroupNormOp.forward(tape, x, groups, gain(), shift(), EPS);
    }

    /** Group norm and ReLU in one op: one pass over x forward, no separate ReLU output or gradient. */
    @Override
    public Tensor forwardRelu(Tape tape, Tensor x) {
        return GroupNormOp.forward(tape, x, groups, gain(), shift(), EPS, true);
    }
}
