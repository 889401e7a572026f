package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * Batch norm: {@code y[n,c,s] = (x[n,c,s] − mean[c])·rstd[c]·γ[c] + β[c]}; x and y (N, C) or (N, C, spatial...),
 * γ and β (C), {@code rstd = 1/√(var + eps)}.
 *
 * <p>Training mode ({@link Tape#training()}): mean and biased var per channel over the M = N·S values of
 * <em>this micro-batch</em>, and the running stats are updated with the batch mean and the unbiased variance
 * {@code var·M/(M−1)}. Hence batch norm is the one op whose result depends on how the effective batch is cut
 * into micro-batches (the known exception to Accrue's exactness promise). Eval mode: the running mean and var
 * are constants, and backward flows through the affine transform only ({@code dx += dy·γ·rstd}).
 *
 * <p>Backward in training mode, with {@code x̂ = (x − mean)·rstd} and {@code g = dy·γ[c]}:
 * {@code dx += rstd·(g − Σg/M − x̂·Σ(g·x̂)/M)}, sums per channel over (n, s). In both modes
 * {@code dγ[c] += Σ_{n,s} x̂·dy} and {@code dβ[c] += Σ_{n,s} dy}, each one ordered chain over examples
 * ascending (positions ascending within an example) that continues from the gradient buffer's value (law 3).
 */
public final class BatchNormOp {
    private BatchNormOp() {
    }

    public static Tensor forward(Tape tape, Tensor x, Tensor gamma, Tensor beta, RunningStats stats, float eps) {
        Norms.requireChannels("batch norm", x);
        int n = x.dim(0);
        int c = x.dim(1);
        Norms.requireAffine("batch norm", "gamma", gamma, x, c);
        Norms.requireAffine("batch norm", "beta", beta, x, c);
        if (stats == null || stats.channels() != c) {
            throw new IllegalArgumentException("batch norm: running stats of "
                    + (stats == null ? "null" : stats.channels() + " channels") + " do not match input " + x
                    + " (C = " + c + ")");
        }
        int s = Norms.spatial(x);
        int count = n * s;
        boolean training = tape.training();
        if (training && count < 2) {
            throw new IllegalArgumentException("batch norm: training needs more than 1 value per channel, input "
                    + x + " has N·S = " + count);
        }
        Tensor y = tape.output(x.shape()); // (N, C, S...)
        Tensor mean = tape.scratch(c); // (C)
        Tensor rstd = tape.scratch(c); // (C)
        if (x.requiresGrad() || gamma.requiresGrad() || beta.requiresGrad()) {
            tape.record(() -> backward(tape, training, x, gamma, beta, y, mean, rstd));
        }
        if (tape.planning()) {
            return y;
        }
        float[] runMean = stats.mean();
        float[] runVar = stats.var();
        // Channel ch is the set of N runs of S values at (ex·C + ch)·S: see Norms.
        tape.compute().parallel().forRange(c, Math.max(1, 4096 / count), (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                if (training) {
                    double sq = Norms.statistics(mean, rstd, ch, x, ch * s, n, s, c * s, eps);
                    stats.update(ch, mean.get(ch), (float) (sq / (count - 1)));
                } else {
                    mean.set(ch, runMean[ch]);
                    rstd.set(ch, (float) (1.0 / Math.sqrt((double) runVar[ch] + eps)));
                }
                Norms.affine(y, x, gamma, beta, ch, ch * s, n, s, c * s, mean.get(ch), rstd.get(ch));
            }
        });
        return y;
    }

    private static void backward(Tape tape, boolean training, Tensor x, Tensor gamma, Tensor beta, Tensor y,
                                 Tensor mean, Tensor rstd) {
        int n = x.dim(0);
        int c = x.dim(1);
        int s = Norms.spatial(x);
        int count = n * s;
        Tensor dy = tape.grad(y); // (N, C, S...)
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null; // (N, C, S...)
        Tensor dgamma = gamma.requiresGrad() ? tape.grad(gamma) : null; // (C)
        Tensor dbeta = beta.requiresGrad() ? tape.grad(beta) : null; // (C)
        if (tape.planning()) {
            return;
        }
        // Every output here (dx of a channel, dγ[c], dβ[c]) belongs to one channel: threads split the channels.
        tape.compute().parallel().forRange(c, Math.max(1, 4096 / count), (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                float mf = mean.get(ch);
                float sf = rstd.get(ch);
                Norms.affineGrads(dgamma, dbeta, ch, x, dy, ch * s, n, s, c * s, mf, sf);
                if (dx == null) {
                    continue;
                }
                if (training) {
                    Norms.inputGrad(dx, x, dy, gamma, ch, ch * s, n, s, c * s, mf, sf);
                } else {
                    evalInputGrad(dx, dy, gamma.get(ch), sf, ch * s, n, s, c * s);
                }
            }
        });
    }

    /** Eval mode, where mean and rstd are constants: {@code dx += dy·γ·rstd} over a channel's N runs of S. */
    private static void evalInputGrad(Tensor dx, Tensor dy, float ga, float sf, int start, int runs, int len,
                                      int stride) {
        float[] dxd = dx.data();
        float[] dyd = dy.data();
        for (int r = 0; r < runs; r++) {
            int dxe = dx.offset() + start + r * stride;
            int dye = dy.offset() + start + r * stride;
            for (int p = 0; p < len; p++) {
                dxd[dxe + p] += dyd[dye + p] * ga * sf;
            }
        }
    }
}
