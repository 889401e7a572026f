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
        LayerNormOp.requireAffine("rms norm", "gamma", gamma, x, c);
        Tensor y = tape.output(x.shape()); // (..., C)
        Tensor rstd = tape.scratch(rows); // (rows)
        float[] xd = x.data();
        float[] yd = y.data();
        float[] gd = gamma.data();
        float[] sd = rstd.data();
        int xo = x.offset();
        int yo = y.offset();
        int go = gamma.offset();
        int so = rstd.offset();
        tape.compute().parallel().forRange(rows, LayerNormOp.grain(c), (from, to) -> {
            for (int r = from; r < to; r++) {
                int xr = xo + r * c;
                int yr = yo + r * c;
                // Sum of squares in double, one sequential loop: same bits for the same row every time.
                double sq = 0;
                for (int i = 0; i < c; i++) {
                    double v = xd[xr + i];
                    sq += v * v;
                }
                float s = (float) (1.0 / Math.sqrt(sq / c + eps));
                sd[so + r] = s;
                for (int i = 0; i < c; i++) {
                    yd[yr + i] = xd[xr + i] * s * gd[go + i];
                }
            }
        });
        if (x.requiresGrad() || gamma.requiresGrad()) {
            tape.record(() -> backward(tape, x, gamma, y, rstd));
        }
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor gamma, Tensor y, Tensor rstd) {
        int c = x.cols();
        int rows = x.rows();
        Tensor dy = tape.grad(y); // (..., C)
        float[] xd = x.data();
        float[] dyd = dy.data();
        float[] gd = gamma.data();
        float[] sd = rstd.data();
        int xo = x.offset();
        int dyo = dy.offset();
        int go = gamma.offset();
        int so = rstd.offset();
        if (x.requiresGrad()) {
            Tensor dx = tape.grad(x); // (..., C)
            float[] dxd = dx.data();
            int dxo = dx.offset();
            tape.compute().parallel().forRange(rows, LayerNormOp.grain(c), (from, to) -> {
                for (int r = from; r < to; r++) {
                    int xr = xo + r * c;
                    int dyr = dyo + r * c;
                    int dxr = dxo + r * c;
                    float s = sd[so + r];
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
            });
        }
        if (gamma.requiresGrad()) {
            Tensor dgamma = tape.grad(gamma); // (C)
            float[] dg = dgamma.data();
            int dgo = dgamma.offset();
            // Threads split the channels; each channel is one chain over rows ascending from the buffer's value.
            tape.compute().parallel().forRange(c, 64, (from, to) -> {
                for (int r = 0; r < rows; r++) {
                    int xr = xo + r * c;
                    int dyr = dyo + r * c;
                    float s = sd[so + r];
                    for (int i = from; i < to; i++) {
                        float xhat = xd[xr + i] * s;
                        dg[dgo + i] = Math.fma(xhat, dyd[dyr + i], dg[dgo + i]);
                    }
                }
            });
        }
    }
}
