package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * Layer norm over the last dimension: {@code y = (x − mean)·rstd·γ + β} with, per row, {@code mean = Σx/C},
 * {@code rstd = 1/√(Σ(x − mean)²/C + eps)} (biased variance); x and y (..., C), γ and β (C).
 *
 * <p>Forward saves each row's mean and rstd (floats) on the tape's scratch. Backward, with
 * {@code x̂ = (x − mean)·rstd} and {@code g = dy·γ}: {@code dx += rstd·(g − Σg/C − x̂·Σ(g·x̂)/C)} per row;
 * {@code dγ += Σ_rows x̂·dy} and {@code dβ += Σ_rows dy}, each one ordered chain over rows ascending that
 * continues from the gradient buffer's value (law 3). Each row is computed alone in a fixed order, so a row's
 * output and dx have the same bits whatever batch it sits in.
 */
public final class LayerNormOp {
    private LayerNormOp() {
    }

    public static Tensor forward(Tape tape, Tensor x, Tensor gamma, Tensor beta, float eps) {
        int c = x.cols();
        int rows = x.rows();
        requireAffine("layer norm", "gamma", gamma, x, c);
        requireAffine("layer norm", "beta", beta, x, c);
        Tensor y = tape.output(x.shape()); // (..., C)
        Tensor mean = tape.scratch(rows); // (rows)
        Tensor rstd = tape.scratch(rows); // (rows)
        float[] xd = x.data();
        float[] yd = y.data();
        float[] gd = gamma.data();
        float[] bd = beta.data();
        float[] md = mean.data();
        float[] sd = rstd.data();
        int xo = x.offset();
        int yo = y.offset();
        int go = gamma.offset();
        int bo = beta.offset();
        int mo = mean.offset();
        int so = rstd.offset();
        tape.compute().parallel().forRange(rows, grain(c), (from, to) -> {
            for (int r = from; r < to; r++) {
                int xr = xo + r * c;
                int yr = yo + r * c;
                // Row statistics in double, one sequential loop per sum: the fixed order gives the same bits for
                // the same row every time, and double keeps the two-pass variance accurate for long rows.
                double sum = 0;
                for (int i = 0; i < c; i++) {
                    sum += xd[xr + i];
                }
                double mu = sum / c;
                double sq = 0;
                for (int i = 0; i < c; i++) {
                    double d = xd[xr + i] - mu;
                    sq += d * d;
                }
                float m = (float) mu;
                float s = (float) (1.0 / Math.sqrt(sq / c + eps));
                md[mo + r] = m;
                sd[so + r] = s;
                for (int i = 0; i < c; i++) {
                    float xhat = (xd[xr + i] - m) * s;
                    yd[yr + i] = Math.fma(xhat, gd[go + i], bd[bo + i]);
                }
            }
        });
        if (x.requiresGrad() || gamma.requiresGrad() || beta.requiresGrad()) {
            tape.record(() -> backward(tape, x, gamma, beta, y, mean, rstd));
        }
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean,
                                 Tensor rstd) {
        int c = x.cols();
        int rows = x.rows();
        Tensor dy = tape.grad(y); // (..., C)
        float[] xd = x.data();
        float[] dyd = dy.data();
        float[] gd = gamma.data();
        float[] md = mean.data();
        float[] sd = rstd.data();
        int xo = x.offset();
        int dyo = dy.offset();
        int go = gamma.offset();
        int mo = mean.offset();
        int so = rstd.offset();
        if (x.requiresGrad()) {
            Tensor dx = tape.grad(x); // (..., C)
            float[] dxd = dx.data();
            int dxo = dx.offset();
            tape.compute().parallel().forRange(rows, grain(c), (from, to) -> {
                for (int r = from; r < to; r++) {
                    int xr = xo + r * c;
                    int dyr = dyo + r * c;
                    int dxr = dxo + r * c;
                    float m = md[mo + r];
                    float s = sd[so + r];
                    // Per-row dot products: sequential in double, same bits for the same row every time.
                    double sumG = 0;
                    double sumGx = 0;
                    for (int i = 0; i < c; i++) {
                        float xhat = (xd[xr + i] - m) * s;
                        float g = dyd[dyr + i] * gd[go + i];
                        sumG += g;
                        sumGx += (double) g * xhat;
                    }
                    double meanG = sumG / c;
                    double meanGx = sumGx / c;
                    for (int i = 0; i < c; i++) {
                        float xhat = (xd[xr + i] - m) * s;
                        float g = dyd[dyr + i] * gd[go + i];
                        dxd[dxr + i] += (float) (s * (g - meanG - xhat * meanGx));
                    }
                }
            });
        }
        boolean needGamma = gamma.requiresGrad();
        boolean needBeta = beta.requiresGrad();
        if (needGamma || needBeta) {
            Tensor dgamma = needGamma ? tape.grad(gamma) : null; // (C)
            Tensor dbeta = needBeta ? tape.grad(beta) : null; // (C)
            // Threads split the channels; each channel is one chain over rows ascending that starts from the
            // buffer's value (storing and reloading a float between rows is exact, so this is law 3's chain).
            tape.compute().parallel().forRange(c, 64, (from, to) -> {
                for (int r = 0; r < rows; r++) {
                    int xr = xo + r * c;
                    int dyr = dyo + r * c;
                    float m = md[mo + r];
                    float s = sd[so + r];
                    if (dgamma != null) {
                        float[] dg = dgamma.data();
                        int dgo = dgamma.offset();
                        for (int i = from; i < to; i++) {
                            float xhat = (xd[xr + i] - m) * s;
                            dg[dgo + i] = Math.fma(xhat, dyd[dyr + i], dg[dgo + i]);
                        }
                    }
                    if (dbeta != null) {
                        float[] db = dbeta.data();
                        int dbo = dbeta.offset();
                        for (int i = from; i < to; i++) {
                            db[dbo + i] += dyd[dyr + i];
                        }
                    }
                }
            });
        }
    }

    /** Rows per thread part: enough elements that a part is worth waking a thread for. */
    static int grain(int rowLength) {
        return Math.max(1, 4096 / Math.max(1, rowLength));
    }

    /** Throws naming both shapes unless {@code p} (γ or β) is a vector of {@code c} elements. */
    static void requireAffine(String op, String name, Tensor p, Tensor x, int c) {
        if (p == null) {
            throw new IllegalArgumentException(op + ": " + name + " is null (expected shape [" + c + "] for input "
                    + x + ")");
        }
        if (p.rank() != 1 || p.dim(0) != c) {
            throw new IllegalArgumentException(op + ": " + name + " " + p + " does not match input " + x
                    + " (expected [" + c + "])");
        }
    }
}
