package io.accrue.nn;

import io.accrue.autograd.ReluOp;
import io.accrue.autograd.Tape;
import io.accrue.tensor.Tensor;

/** A normalization layer: maps (N, C[, spatial…]) to the same shape. */
public interface Normalization extends Module {

    Tensor forward(Tape tape, Tensor x);

    /** {@code max(forward(x), 0)}: the normalization followed by ReLU, fused into one op where the layer can. */
    default Tensor forwardRelu(Tape tape, Tensor x) {
        return ReluOp.forward(tape, forward(tape, x));
    }

    /**
     * Whether statistics are shared across the examples of a micro-batch (BatchNorm): then K micro-batches
     * are not equivalent to one large batch.
     */
    default boolean mixesExamples() {
        return false;
    }
}
