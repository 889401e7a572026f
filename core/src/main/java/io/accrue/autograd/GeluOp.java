package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * GELU in GPT-2's tanh approximation, elementwise:
 * {@code y = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}.
 *
 * <p>Backward: {@code dx += dy·(½(1 + th) + ½·x·(1 − th²)·√(2/π)·(1 + 3·0.044715·x²))} with th the tanh above.
 * Evaluated in double and rounded once; tanh is computed from {@link Math#exp} (whose compiled and
 * interpreted forms are the same routine in HotSpot), so the same x gives the same bits in every call.
 */
public final class GeluOp {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    private static final double COEFF = 0.044715;

    private GeluOp() {
    }

    public static Tensor forward(Tape tape, Tensor x) {
        Tensor y = tape.output(x.shape());
        float[] yd = y.data();
        float[] xd = x.data();
        int yo = y.offset();
        int xo = x.offset();
        tape.compute().parallel().forRange(y.size(), AddOp.GRAIN / 8, (from, to) -> {
            for (int i = from; i < to; i++) {
                double v = xd[xo + i];
                yd[yo + i] = (float) (0.5 * v * (1.0 + tanh(SQRT_2_OVER_PI * (v + COEFF * v * v * v))));
            }
        });
        if (x.requiresGrad()) {
            tape.record(() -> backward(tape, x, y));
        }
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor y) {
        Tensor dy = tape.grad(y);
        Tensor dx = tape.grad(x);
        float[] xd = x.data();
        float[] gy = dy.data();
        float[] gx = dx.data();
        int xo = x.offset();
        int gyo = dy.offset();
        int gxo = dx.offset();
        tape.compute().parallel().forRange(x.size(), AddOp.GRAIN / 8, (from, to) -> {
            for (int i = from; i < to; i++) {
                double v = xd[xo + i];
                double th = tanh(SQRT_2_OVER_PI * (v + COEFF * v * v * v));
                double local = 0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * SQRT_2_OVER_PI * (1.0 + 3.0 * COEFF * v * v);
                gx[gxo + i] += (float) (gy[gyo + i] * local);
            }
        });
    }

    /** {@code tanh(u) = 1 − 2/(e^{2u} + 1)}: exact limits ±1 for large |u|, no overflow trap. */
    static double tanh(double u) {
        return 1.0 - 2.0 / (Math.exp(2.0 * u) + 1.0);
    }
}
