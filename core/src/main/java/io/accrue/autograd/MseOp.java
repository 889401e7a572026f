package io.accrue.autograd;

import io.accrue.tensor.Tensor;

import java.util.Arrays;

/**
 * Squared error per row, a loss root: {@code rows[r] = Σ_d (p[r][d] − t[r][d])²}, count = N·D;
 * prediction and target (N, D).
 *
 * <p>Law 2: backward is the gradient of the raw sum, {@code dp += 2(p − t)} (and {@code dt −= 2(p − t)} when the
 * target requires a gradient); the trainer divides by the count once per step. The row sum runs over d in
 * ascending order in double.
 */
public final class MseOp {
    private MseOp() {
    }

    public static Loss forward(Tape tape, Tensor prediction, Tensor target) {
        if (!Arrays.equals(prediction.shape(), target.shape())) {
            throw new IllegalArgumentException("mse: prediction " + Arrays.toString(prediction.shape())
                    + " and target " + Arrays.toString(target.shape()) + " differ in shape");
        }
        int n = prediction.rows();
        int d = prediction.cols();
        Tensor rows = tape.scratch(n); // (N)
        if (prediction.requiresGrad() || target.requiresGrad()) {
            tape.record(() -> backward(tape, prediction, target));
        }
        if (tape.planning()) {
            return new Loss(rows, (long) n * d);
        }
        float[] pd = prediction.data();
        float[] td = target.data();
        float[] rd = rows.data();
        int po = prediction.offset();
        int to = target.offset();
        int ro = rows.offset();
        tape.compute().parallel().forRange(n, Math.max(1, AddOp.GRAIN / d), (from, end) -> {
            for (int r = from; r < end; r++) {
                double s = 0;
                for (int j = r * d, e = j + d; j < e; j++) {
                    double diff = (double) pd[po + j] - td[to + j];
                    s += diff * diff;
                }
                rd[ro + r] = (float) s;
            }
        });
        return new Loss(rows, (long) n * d);
    }

    private static void backward(Tape tape, Tensor prediction, Tensor target) {
        float[] pd = prediction.data();
        float[] td = target.data();
        int po = prediction.offset();
        int to = target.offset();
        Tensor dp = prediction.requiresGrad() ? tape.grad(prediction) : null;
        Tensor dt = target.requiresGrad() ? tape.grad(target) : null;
        if (tape.planning()) {
            return;
        }
        if (dp != null) {
            float[] gd = dp.data();
            int go = dp.offset();
            tape.compute().parallel().forRange(dp.size(), AddOp.GRAIN, (from, end) -> {
                for (int i = from; i < end; i++) {
                    gd[go + i] += 2f * (pd[po + i] - td[to + i]);
                }
            });
        }
        if (dt != null) {
            float[] gd = dt.data();
            int go = dt.offset();
            tape.compute().parallel().forRange(dt.size(), AddOp.GRAIN, (from, end) -> {
                for (int i = from; i < end; i++) {
                    gd[go + i] -= 2f * (pd[po + i] - td[to + i]);
                }
            });
        }
    }
}
