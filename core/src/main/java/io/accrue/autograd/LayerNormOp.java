package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.norm.NormKernels;

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
        Norms.requireAffine("layer norm", "gamma", gamma, x, c);
        Norms.requireAffine("layer norm", "beta", beta, x, c);
        Tensor y = tape.output(x.shape()); // (..., C)
        Tensor mean = tape.scratch(rows); // (rows)
        Tensor rstd = tape.scratch(rows); // (rows)
        if (x.requiresGrad() || gamma.requiresGrad() || beta.requiresGrad()) {
            tape.record(() -> backward(tape, x, gamma, beta, y, mean, rstd));
        }
        if (tape.planning()) {
            return y;
        }
        tape.compute().parallel().forRange(rows, Norms.grain(c), (from, to) -> {
            for (int r = from; r < to; r++) {
                NormKernels.layerNormRow(y.data(), y.offset() + r * c, mean.data(), mean.offset() + r, rstd.data(),
                        rstd.offset() + r, x.data(), x.offset() + r * c, gamma.data(), gamma.offset(), beta.data(),
                        beta.offset(), c, eps);
            }
        });
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean,
                                 Tensor rstd) {
        int c = x.cols();
        Tensor dy = tape.grad(y); // (..., C)
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null; // (..., C)
        Tensor dgamma = gamma.requiresGrad() ? tape.grad(gamma) : null; // (C)
        Tensor dbeta = beta.requiresGrad() ? tape.grad(beta) : null; // (C)
        if (tape.planning()) {
            return;
        }
        if (dx != null) {
            tape.compute().parallel().forRange(x.rows(), Norms.grain(c), (from, to) -> {
                for (int r = from; r < to; r++) {
                    NormKernels.layerNormBackwardRow(dx.data(), dx.offset() + r * c, x.data(), x.offset() + r * c,
                            dy.data(), dy.offset() + r * c, gamma.data(), gamma.offset(), mean.get(r), rstd.get(r), c);
                }
            });
        }
        Norms.rowAffineGrads(tape, dgamma, dbeta, x, dy, mean, rstd);
    }
}
