package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * Rectified linear unit, elementwise: {@code y = max(x, 0)}.
 *
 * <p>Backward: {@code dx += dy} where {@code x > 0}, nothing elsewhere (the derivative at 0 is taken as 0).
 */
public final class ReluOp {
    private ReluOp() {
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
        tape.compute().parallel().forRange(y.size(), AddOp.GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                float v = xd[xo + i];
                yd[yo + i] = v > 0f ? v : 0f;
            }
        });
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor y) {
        Tensor dy = tape.grad(y);
        Tensor dx = tape.grad(x);
        if (tape.planning()) {
            return;
        }
        float[] xd = x.data();
        float[] gy = dy.data();
        float[] gx = dx.data();
        int xo = x.offset();
        int gyo = dy.offset();
        int gxo = dx.offset();
        tape.compute().parallel().forRange(x.size(), AddOp.GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) {
                if (xd[xo + i] > 0f) {
                    gx[gxo + i] += gy[gyo + i];
                }
            }
        });
    }
}
