package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * RMS norm over the last dimension: {@code y = x·rstd·γ} with, per row, {@code rstd = 1/√(Σx²/C + eps)};
 * x and y (..., C), γ (C).
 *
 * <p>Forward saves each row's rstd (a float) on the tape's scratch. Backward, with {@code x̂ = x·rstd} and
 * {@code g = dy·γ}: {@code dx += rstd·(g − x̂·Σ(g·x̂)/C)} per row; {@code dγ += Σ_rows x̂·dy}, one ordered
 * chain over rows ascending that continues from the gradient buffer's value (law 3). Each row is computed
 * alone in a fixed order, so a row's output and dx have the same bits whatever batch it sits in.
 */
public final class RmsNormOp {
    private RmsNormOp() {
    }

    public static Tensor forward(Tape tape, Tensor x, Tensor gamma, float eps) {
        int c = x.cols();
        int rows = x.rows();
        Norms.requireAffine("rms norm", "gamma", gamma, x, c);
        Tensor y = tape.output(x.shape()); // (..., C)
        Tensor rstd = tape.scratch(rows); // (rows)
        if (x.requiresGrad() || gamma.requiresGrad()) {
            tape.record(() -> backward(tape, x, gamma, y, rstd));
        }
        if (tape.planning()) {
            return y;
        }
        tape.compute().parallel().forRange(rows, Norms.grain(c), (from, to) -> {
            for (int r = from; r < to; r++) {
                normalizeRow(y, rstd, x, gamma, r, eps);
            }
        });
        return y;
    }

    /** Row r: {@code rstd[r] = 1/√(Σx²/C + eps)}, {@code y = x·rstd·γ}. */
    private static void normalizeRow(Tensor y, Tensor rstd, Tensor x, Tensor gamma, int r, float eps) {
        int c = x.cols();
        float[] xd = x.data();
        float[] yd = y.data();
        float[] gd = gamma.data();
        int xr = x.offset() + r * c;
        int yr = y.offset() + r * c;
        int go = gamma.offset();
        // Sum of squares in double, one sequential loop: same bits for the same row every time.
        double sq = 0;
        for (int i = 0; i < c; i++) {
            double v = xd[xr + i];
            sq += v * v;
        }
        float s = (float) (1.0 / Math.sqrt(sq / c + eps));
        rstd.set(r, s);
        for (int i = 0; i < c; i++) {
            yd[yr + i] = xd[xr + i] * s * gd[go + i];
        }
    }

    private static void backward(Tape tape, Tensor x, Tensor gamma, Tensor y, Tensor rstd) {
        Tensor dy = tape.grad(y); // (..., C)
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null; // (..., C)
        Tensor dgamma = gamma.requiresGrad() ? tape.grad(gamma) : null; // (C)
        if (tape.planning()) {
            return;
        }
        if (dx != null) {
            tape.compute().parallel().forRange(x.rows(), Norms.grain(x.cols()), (from, to) -> {
                for (int r = from; r < to; r++) {
                    inputGradRow(dx, x, dy, gamma, r, rstd.get(r));
                }
            });
        }
        if (dgamma != null) {
            Norms.rowAffineGrads(tape, dgamma, null, x, dy, null, rstd);
        }
    }

    /** Row r: {@code dx += s·(g − x̂·Σ(g·x̂)/C)} with {@code x̂ = x·s}, {@code g = dy·γ}. */
    private static void inputGradRow(Tensor dx, Tensor x, Tensor dy, Tensor gamma, int r, float s) {
        int c = x.cols();
        float[] xd = x.data();
        float[] dyd = dy.data();
        float[] dxd = dx.data();
        float[] gd = gamma.data();
        int xr = x.offset() + r * c;
        int dyr = dy.offset() + r * c;
        int dxr = dx.offset() + r * c;
        int go = gamma.offset();
        // Per-row dot product: sequential in double, same bits for the same row every time.
        double sumGx = 0;
        for (int i = 0; i < c; i++) {
            float xhat = xd[xr + i] * s;
            sumGx += (double) (dyd[dyr + i] * gd[go + i]) * xhat;
        }
        double meanGx = sumGx / c;
        for (int i = 0; i < c; i++) {
            float xhat = xd[xr + i] * s;
            float g = dyd[dyr + i] * gd[go + i];
            dxd[dxr + i] += (float) (s * (g - xhat * meanGx));
        }
    }
}
