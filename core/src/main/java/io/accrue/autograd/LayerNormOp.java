package io.accrue.autograd;

import io.accrue.tensor.NormKernels;
import io.accrue.tensor.Tensor;

/**
 * Layer norm over the last dimension: {@code y = (x − mean)·rstd·γ + β} with, per row, {@code mean = Σx/C},
 * {@code rstd = 1/√(Σ(x − mean)²/C + eps)} (biased variance); x and y (..., C), γ and β (C). The row kernels are
 * {@link NormKernels}' (fixed-order float lane sums, vectorized, with a scalar oracle).
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
                NormKernels.layerNormRow(yd, yo + r * c, md, mo + r, sd, so + r, xd, xo + r * c, gd, go, bd, bo, c,
                        eps);
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
                    NormKernels.layerNormBackwardRow(dxd, dxo + r * c, xd, xo + r * c, dyd, dyo + r * c, gd, go,
                            md[mo + r], sd[so + r], c);
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
                float[] dg = dgamma == null ? null : dgamma.data();
                int dgo = dgamma == null ? 0 : dgamma.offset();
                float[] db = dbeta == null ? null : dbeta.data();
                int dbo = dbeta == null ? 0 : dbeta.offset();
                for (int r = 0; r < rows; r++) {
                    NormKernels.layerNormParamRow(dg, dgo, db, dbo, xd, xo + r * c, dyd, dyo + r * c, md[mo + r],
                            sd[so + r], from, to);
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
