package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Tensor;

import java.util.function.BiFunction;

/**
 * Activation checkpointing: {@code y = block(x)}, y of x's shape, keeping only x and y in the arena; backward recomputes the
 * block's forward and runs its backward inside an arena region that is released afterwards.
 *
 * <p>The block must be a pure function of x, the parameters and keyed randomness (law 5), so the recomputation
 * gives the same bits and the result is bit-identical to running the block without checkpointing: its
 * backward steps run in the same order at the same place of the tape. Peak activation memory becomes one
 * block's activations plus each block's input and output.
 */
public final class CheckpointOp {
    private CheckpointOp() {
    }

    /**
     * Runs {@code block} on x without keeping its activations.
     *
     * @param block records ops on the given tape and returns its output; called twice per micro-batch
     */
    public static Tensor forward(Tape tape, Tensor x, BiFunction<Tape, Tensor, Tensor> block) {
        Arena arena = tape.arena();
        Tape inner = tape.region();
        Tensor y = tape.output(x.shape());
        Arena.Mark mark = arena.mark();
        Tensor out = block.apply(inner, x);  // the inner tape's entries are dropped with it
        if (!tape.planning()) {
            y.copyFrom(out);
        }
        arena.release(mark);
        tape.record(() -> backward(tape, x, y, block));
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor y, BiFunction<Tape, Tensor, Tensor> block) {
        Arena arena = tape.arena();
        Tensor dy = tape.grad(y);
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null;  // allocated before the mark: it outlives the region
        Arena.Mark mark = arena.mark();
        Tape inner = tape.region();
        Tensor input = new Tensor(x.data(), x.offset(), x.shape());
        if (dx != null) {
            input.setGrad(dx);
        }
        Tensor out = block.apply(inner, input);
        Tensor dOut = inner.grad(out);
        if (!tape.planning()) {
            dOut.copyFrom(dy);
        }
        inner.backward();
        arena.release(mark);
    }
}
