package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * Group norm: {@code y[n,c,s] = (x[n,c,s] − mean[n,g])·rstd[n,g]·γ[c] + β[c]}, the statistics (biased variance)
 * taken per example n and group g over its (C/G)·S values; x and y (N, C) or (N, C, spatial...), γ and β (C).
 *
 * <p>S is the product of the dimensions after C (1 for rank 2). The channels of a group and their spatial
 * positions are contiguous in x, so a group is one block of M = (C/G)·S floats, normalized like a layer-norm
 * row. Backward, with {@code x̂ = (x − mean)·rstd} and {@code g = dy·γ[c]}: {@code dx += rstd·(g − Σg/M −
 * x̂·Σ(g·x̂)/M)} per group; {@code dγ[c] += Σ_{n,s} x̂·dy} and {@code dβ[c] += Σ_{n,s} dy}, each one ordered
 * chain over examples ascending (and positions ascending within an example) that continues from the gradient
 * buffer's value (law 3). An example's output never depends on the other examples of the micro-batch.
 */
public final class GroupNormOp {
    private GroupNormOp() {
    }

    public static Tensor forward(Tape tape, Tensor x, int groups, Tensor gamma, Tensor beta, float eps) {
        if (x.rank() < 2) {
            throw new IllegalArgumentException("group norm: input " + x + " must be (N, C) or (N, C, spatial...)");
        }
        int n = x.dim(0);
        int c = x.dim(1);
        if (groups <= 0 || c % groups != 0) {
            throw new IllegalArgumentException("group norm: C = " + c + " channels of input " + x
                    + " are not divisible into groups = " + groups);
        }
        LayerNormOp.requireAffine("group norm", "gamma", gamma, x, c);
        LayerNormOp.requireAffine("group norm", "beta", beta, x, c);
        int s = x.size() / (n * c);
        int cg = c / groups;
        int m = cg * s;
        Tensor y = tape.output(x.shape()); // (N, C, S...)
        Tensor mean = tape.scratch(n * groups); // (N, G)
        Tensor rstd = tape.scratch(n * groups); // (N, G)
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
        tape.compute().parallel().forRange(n * groups, LayerNormOp.grain(m), (from, to) -> {
            for (int ng = from; ng < to; ng++) {
                int base = ng * m; // group ng's block starts here in x and y
                // Group statistics in double, one sequential loop per sum: same bits for the same example
                // every time, and an accurate two-pass variance for large groups.
                double sum = 0;
                for (int i = 0; i < m; i++) {
                    sum += xd[xo + base + i];
                }
                double mu = sum / m;
                double sq = 0;
                for (int i = 0; i < m; i++) {
                    double d = xd[xo + base + i] - mu;
                    sq += d * d;
                }
                float mf = (float) mu;
                float sf = (float) (1.0 / Math.sqrt(sq / m + eps));
                md[mo + ng] = mf;
                sd[so + ng] = sf;
                int c0 = (ng % groups) * cg;
                for (int j = 0; j < cg; j++) {
                    float ga = gd[go + c0 + j];
                    float be = bd[bo + c0 + j];
                    int e = base + j * s;
                    for (int p = 0; p < s; p++) {
                        float xhat = (xd[xo + e + p] - mf) * sf;
                        yd[yo + e + p] = Math.fma(xhat, ga, be);
                    }
                }
            }
        });
        if (x.requiresGrad() || gamma.requiresGrad() || beta.requiresGrad()) {
            tape.record(() -> backward(tape, x, groups, gamma, beta, y, mean, rstd));
        }
        return y;
    }

    private static void backward(Tape tape, Tensor x, int groups, Tensor gamma, Tensor beta, Tensor y,
                                 Tensor mean, Tensor rstd) {
        int n = x.dim(0);
        int c = x.dim(1);
        int s = x.size() / (n * c);
        int cg = c / groups;
        int m = cg * s;
        Tensor dy = tape.grad(y); // (N, C, S...)
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
            Tensor dx = tape.grad(x); // (N, C, S...)
            float[] dxd = dx.data();
            int dxo = dx.offset();
            tape.compute().parallel().forRange(n * groups, LayerNormOp.grain(m), (from, to) -> {
                for (int ng = from; ng < to; ng++) {
                    int base = ng * m;
                    int c0 = (ng % groups) * cg;
                    float mf = md[mo + ng];
                    float sf = sd[so + ng];
                    // Per-group dot products: sequential in double, same bits for the same example every time.
                    double sumG = 0;
                    double sumGx = 0;
                    for (int j = 0; j < cg; j++) {
                        float ga = gd[go + c0 + j];
                        int e = base + j * s;
                        for (int p = 0; p < s; p++) {
                            float xhat = (xd[xo + e + p] - mf) * sf;
                            float g = dyd[dyo + e + p] * ga;
                            sumG += g;
                            sumGx += (double) g * xhat;
                        }
                    }
                    double meanG = sumG / m;
                    double meanGx = sumGx / m;
                    for (int j = 0; j < cg; j++) {
                        float ga = gd[go + c0 + j];
                        int e = base + j * s;
                        for (int p = 0; p < s; p++) {
                            float xhat = (xd[xo + e + p] - mf) * sf;
                            float g = dyd[dyo + e + p] * ga;
                            dxd[dxo + e + p] += (float) (sf * (g - meanG - xhat * meanGx));
                        }
                    }
                }
            });
        }
        Tensor dgamma = gamma.requiresGrad() ? tape.grad(gamma) : null; // (C)
        Tensor dbeta = beta.requiresGrad() ? tape.grad(beta) : null; // (C)
        if (dgamma != null || dbeta != null) {
            // Threads split the channels; channel ch is one chain over (example ascending, position ascending)
            // that starts from the buffer's value (law 3).
            tape.compute().parallel().forRange(c, Math.max(1, 64 / s), (from, to) -> {
                for (int ex = 0; ex < n; ex++) {
                    for (int ch = from; ch < to; ch++) {
                        int stat = ex * groups + ch / cg;
                        float mf = md[mo + stat];
                        float sf = sd[so + stat];
                        int e = (ex * c + ch) * s;
                        if (dgamma != null) {
                            float[] dg = dgamma.data();
                            int i = dgamma.offset() + ch;
                            float acc = dg[i];
                            for (int p = 0; p < s; p++) {
                                float xhat = (xd[xo + e + p] - mf) * sf;
                                acc = Math.fma(xhat, dyd[dyo + e + p], acc);
                            }
                            dg[i] = acc;
                        }
                        if (dbeta != null) {
                            float[] db = dbeta.data();
                            int i = dbeta.offset() + ch;
                            float acc = db[i];
                            for (int p = 0; p < s; p++) {
                                acc += dyd[dyo + e + p];
                            }
                            db[i] = acc;
                        }
                    }
                }
            });
        }
    }
}
