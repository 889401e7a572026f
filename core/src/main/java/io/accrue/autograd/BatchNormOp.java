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
        if (x.rank() < 2) {
            throw new IllegalArgumentException("batch norm: input " + x + " must be (N, C) or (N, C, spatial...)");
        }
        int n = x.dim(0);
        int c = x.dim(1);
        LayerNormOp.requireAffine("batch norm", "gamma", gamma, x, c);
        LayerNormOp.requireAffine("batch norm", "beta", beta, x, c);
        if (stats == null || stats.channels() != c) {
            throw new IllegalArgumentException("batch norm: running stats of "
                    + (stats == null ? "null" : stats.channels() + " channels") + " do not match input " + x
                    + " (C = " + c + ")");
        }
        int s = x.size() / (n * c);
        int count = n * s;
        boolean training = tape.training();
        if (training && count < 2) {
            throw new IllegalArgumentException("batch norm: training needs more than 1 value per channel, input "
                    + x + " has N·S = " + count);
        }
        Tensor y = tape.output(x.shape()); // (N, C, S...)
        Tensor mean = tape.scratch(c); // (C)
        Tensor rstd = tape.scratch(c); // (C)
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
        float[] runMean = stats.mean();
        float[] runVar = stats.var();
        tape.compute().parallel().forRange(c, Math.max(1, 4096 / count), (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                float mf;
                float sf;
                if (training) {
                    // Channel statistics in double, one sequential loop per sum over (n, s) ascending: a fixed
                    // order, and an accurate two-pass variance over many values.
                    double sum = 0;
                    for (int ex = 0; ex < n; ex++) {
                        int e = xo + (ex * c + ch) * s;
                        for (int p = 0; p < s; p++) {
                            sum += xd[e + p];
                        }
                    }
                    double mu = sum / count;
                    double sq = 0;
                    for (int ex = 0; ex < n; ex++) {
                        int e = xo + (ex * c + ch) * s;
                        for (int p = 0; p < s; p++) {
                            double d = xd[e + p] - mu;
                            sq += d * d;
                        }
                    }
                    mf = (float) mu;
                    sf = (float) (1.0 / Math.sqrt(sq / count + eps));
                    stats.update(ch, mf, (float) (sq / (count - 1)));
                } else {
                    mf = runMean[ch];
                    sf = (float) (1.0 / Math.sqrt((double) runVar[ch] + eps));
                }
                md[mo + ch] = mf;
                sd[so + ch] = sf;
                float ga = gd[go + ch];
                float be = bd[bo + ch];
                for (int ex = 0; ex < n; ex++) {
                    int e = (ex * c + ch) * s;
                    for (int p = 0; p < s; p++) {
                        float xhat = (xd[xo + e + p] - mf) * sf;
                        yd[yo + e + p] = Math.fma(xhat, ga, be);
                    }
                }
            }
        });
        if (x.requiresGrad() || gamma.requiresGrad() || beta.requiresGrad()) {
            tape.record(() -> backward(tape, training, x, gamma, beta, y, mean, rstd));
        }
        return y;
    }

    private static void backward(Tape tape, boolean training, Tensor x, Tensor gamma, Tensor beta, Tensor y,
                                 Tensor mean, Tensor rstd) {
        int n = x.dim(0);
        int c = x.dim(1);
        int s = x.size() / (n * c);
        int count = n * s;
        Tensor dy = tape.grad(y); // (N, C, S...)
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null; // (N, C, S...)
        Tensor dgamma = gamma.requiresGrad() ? tape.grad(gamma) : null; // (C)
        Tensor dbeta = beta.requiresGrad() ? tape.grad(beta) : null; // (C)
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
        // Every output here (dx of a channel, dγ[c], dβ[c]) belongs to one channel: threads split the channels.
        tape.compute().parallel().forRange(c, Math.max(1, 4096 / count), (from, to) -> {
            for (int ch = from; ch < to; ch++) {
                float mf = md[mo + ch];
                float sf = sd[so + ch];
                float ga = gd[go + ch];
                if (dgamma != null) {
                    float[] dg = dgamma.data();
                    int i = dgamma.offset() + ch;
                    float acc = dg[i];
                    for (int ex = 0; ex < n; ex++) {
                        int e = (ex * c + ch) * s;
                        for (int p = 0; p < s; p++) {
                            float xhat = (xd[xo + e + p] - mf) * sf;
                            acc = Math.fma(xhat, dyd[dyo + e + p], acc);
                        }
                    }
                    dg[i] = acc;
                }
                if (dbeta != null) {
                    float[] db = dbeta.data();
                    int i = dbeta.offset() + ch;
                    float acc = db[i];
                    for (int ex = 0; ex < n; ex++) {
                        int e = dyo + (ex * c + ch) * s;
                        for (int p = 0; p < s; p++) {
                            acc += dyd[e + p];
                        }
                    }
                    db[i] = acc;
                }
                if (dx == null) {
                    continue;
                }
                float[] dxd = dx.data();
                int dxo = dx.offset();
                if (!training) {
                    for (int ex = 0; ex < n; ex++) {
                        int e = (ex * c + ch) * s;
                        for (int p = 0; p < s; p++) {
                            dxd[dxo + e + p] += dyd[dyo + e + p] * ga * sf;
                        }
                    }
                    continue;
                }
                // Per-channel sums over (n, s) ascending in double, a fixed order.
                double sumG = 0;
                double sumGx = 0;
                for (int ex = 0; ex < n; ex++) {
                    int e = (ex * c + ch) * s;
                    for (int p = 0; p < s; p++) {
                        float xhat = (xd[xo + e + p] - mf) * sf;
                        float g = dyd[dyo + e + p] * ga;
                        sumG += g;
                        sumGx += (double) g * xhat;
                    }
                }
                double meanG = sumG / count;
                double meanGx = sumGx / count;
                for (int ex = 0; ex < n; ex++) {
                    int e = (ex * c + ch) * s;
                    for (int p = 0; p < s; p++) {
                        float xhat = (xd[xo + e + p] - mf) * sf;
                        float g = dyd[dyo + e + p] * ga;
                        dxd[dxo + e + p] += (float) (sf * (g - meanG - xhat * meanGx));
                    }
                }
            }
        });
    }
}
