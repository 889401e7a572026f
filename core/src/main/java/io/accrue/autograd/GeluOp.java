package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.elementwise.Elementwise;

/**
 * GELU in GPT-2's tanh approximation, elementwise:
 * {@code y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}.
 *
 * <p>Backward: {@code dx += dy·(½(1 + th) + ½·x·(1 − th²)·√(2/π)·(1 + 3·0.044715·x²))} with th the tanh above.
 * Both are evaluated in float as {@code x·σ(2u)} by {@link Elementwise#gelu} and {@link Elementwise#geluGrad}
 * (vectorized, with a deterministic exp built from IEEE-exact operations), so the same x gives the same bits in
 * every call, lane and position.
 */
public final class GeluOp {
    private GeluOp() {
    }

    public static Tensor forward(Tape tape, Tensor x) {
        Tensor y = tape.output(x.shape());
        if (x.requiresGrad()) {
            tape.record(() -> backward(tape, x, y));
        }
        if (tape.planning()) {
            return y;
        }
        float[] yd = y.data();
        float[] xd = x.data();
        int yo = y.offset();
        int xo = x.offset();
        tape.compute().parallel().forRange(y.size(), AddOp.GRAIN / 8, (from, to) -> {
            Elementwise.gelu(yd, yo + from, xd, xo + from, to - from);
        });
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor y) {
        Tensor dy = tape.grad(y);
        Tensor fresh = tape.freshGrad(x); // written, not added to: no zeroing pass
        Tensor dx = fresh != null ? fresh : tape.grad(x);
        boolean accumulate = fresh == null;
        if (tape.planning()) {
            return;
        }
        float[] xd = x.data();
        float[] gy = dy.data();
        float[] gx = dx.data();
        int xo = x.offset();
        int gyo = dy.offset();
        int gxo = dx.offset();
        Elementwise kernels = tape.compute().elementwise();
        tape.compute().parallel().forParts(x.size(), AddOp.GRAIN / 8, (part, from, to) -> {
            kernels.geluBackward(part, gx, gxo + from, accumulate, gy, gyo + from, xd, xo + from, to - from);
        });
    }
}
