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
        Norms.requireChannels("group norm", x);
        int n = x.dim(0);
        int c = x.dim(1);
        if (groups <= 0 || c % groups != 0) {
            throw new IllegalArgumentException("group norm: C = " + c + " channels of input " + x
                    + " are not divisible into groups = " + groups);
        }
        Norms.requireAffine("group norm", "gamma", gamma, x, c);
        Norms.requireAffine("group norm", "beta", beta, x, c);
        int s = Norms.spatial(x);
        int cg = c / groups;
        int m = cg * s;
        Tensor y = tape.output(x.shape()); // (N, C, S...)
        Tensor mean = tape.scratch(n * groups); // (N, G)
        Tensor rstd = tape.scratch(n * groups); // (N, G)
        if (x.requiresGrad() || gamma.requiresGrad() || beta.requiresGrad()) {
            tape.record(() -> backward(tape, x, groups, gamma, beta, y, mean, rstd));
        }
        if (tape.planning()) {
            return y;
        }
        // Group ng is one contiguous block of C/G runs of S values (one channel per run): see Norms.
        tape.compute().parallel().forRange(n * groups, Norms.grain(m), (from, to) -> {
            for (int ng = from; ng < to; ng++) {
                Norms.statistics(mean, rstd, ng, x, ng * m, cg, s, s, eps);
                Norms.affine(y, x, gamma, beta, (ng % groups) * cg, 1, ng * m, cg, s, s, mean.get(ng), rstd.get(ng));
            }
        });
        return y;
    }

    private static void backward(Tape tape, Tensor x, int groups, Tensor gamma, Tensor beta, Tensor y,
                                 Tensor mean, Tensor rstd) {
        int n = x.dim(0);
        int c = x.dim(1);
        int s = Norms.spatial(x);
        int cg = c / groups;
        int m = cg * s;
        Tensor dy = tape.grad(y); // (N, C, S...)
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null; // (N, C, S...)
        Tensor dgamma = gamma.requiresGrad() ? tape.grad(gamma) : null; // (C)
        Tensor dbeta = beta.requiresGrad() ? tape.grad(beta) : null; // (C)
        if (tape.planning()) {
            return;
        }
        if (dx != null) {
            tape.compute().parallel().forRange(n * groups, Norms.grain(m), (from, to) -> {
                for (int ng = from; ng < to; ng++) {
                    Norms.inputGrad(dx, x, dy, gamma, (ng % groups) * cg, 1, ng * m, cg, s, s, mean.get(ng),
                            rstd.get(ng));
                }
            });
        }
        if (dgamma != null || dbeta != null) {
            // Threads split the channels; channel ch is one chain over (example ascending, position ascending)
            // that starts from the buffer's value (law 3).
            tape.compute().parallel().forRange(c, Math.max(1, 64 / s), (from, to) -> {
                for (int ex = 0; ex < n; ex++) {
                    for (int ch = from; ch < to; ch++) {
                        int stat = ex * groups + ch / cg;
                        // One run: the statistics change with the example.
                        Norms.affineGrads(dgamma, dbeta, ch, x, dy, (ex * c + ch) * s, 1, s, 0, mean.get(stat),
                                rstd.get(stat));
                    }
                }
            });
        }
    }
}
