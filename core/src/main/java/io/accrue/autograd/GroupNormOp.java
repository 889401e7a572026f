package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.norm.NormKernels;

/**
 * Group norm, optionally fused with the ReLU after it: {@code z[n,c,s] = (x[n,c,s] − mean[n,g])·rstd[n,g]·γ[c] +
 * β[c]} and {@code y = z}, or {@code y = max(z, 0)} with {@code relu}; the statistics (biased variance) are taken
 * per example n and group g over its (C/G)·S values; x and y (N, C) or (N, C, spatial...), γ and β (C).
 *
 * <p>S is the product of the dimensions after C (1 for rank 2). The channels of a group and their spatial
 * positions are contiguous in x, so a group is one block of M = (C/G)·S floats ({@link NormKernels#groupNorm}).
 * Backward, with {@code x̂ = (x − mean)·rstd} and {@code dz = dy} (with {@code relu}: {@code dy} where y > 0, else
 * 0): each channel's {@code Σdz} and {@code Σdz·x̂} over its positions (a fixed order inside the example), then
 * {@code dx += rstd·(g − Σg/M − x̂·Σ(g·x̂)/M)} with {@code g = dz·γ[c]}, the two group sums taken from the channel
 * sums; {@code dγ[c] += Σdz·x̂} and {@code dβ[c] += Σdz}, one add per example in ascending order onto the gradient
 * buffer's value — a chain over the examples that no micro-batch split or thread count changes (law 3). An
 * example's output never depends on the other examples of the micro-batch.
 */
public final class GroupNormOp {
    private GroupNormOp() {
    }

    /** Group norm alone: {@link #forward(Tape, Tensor, int, Tensor, Tensor, float, boolean)} without ReLU. */
    public static Tensor forward(Tape tape, Tensor x, int groups, Tensor gamma, Tensor beta, float eps) {
        return forward(tape, x, groups, gamma, beta, eps, false);
    }

    public static Tensor forward(Tape tape, Tensor x, int groups, Tensor gamma, Tensor beta, float eps,
                                 boolean relu) {
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
            Tensor sums = tape.scratch(2, n * c); // backward's per-channel Σdz, then Σdz·x̂: (2, N·C)
            tape.record(() -> backward(tape, x, groups, gamma, beta, y, relu, mean, rstd, sums));
        }
        if (tape.planning()) {
            return y;
        }
        tape.compute().parallel().forRange(n * groups, Norms.grain(m), (from, to) -> {
            for (int ng = from; ng < to; ng++) {
                NormKernels.groupNorm(y.data(), y.offset() + ng * m, mean.data(), mean.offset() + ng, rstd.data(),
                        rstd.offset() + ng, x.data(),
                        x.offset() + ng * m, gamma.data(), gamma.offset() + (ng % groups) * cg, beta.data(),
                        beta.offset() + (ng % groups) * cg, cg, s, eps, relu);
            }
        });
        return y;
    }

    private static void backward(Tape tape, Tensor x, int groups, Tensor gamma, Tensor beta, Tensor y, boolean relu,
                                 Tensor mean, Tensor rstd, Tensor sums) {
        int n = x.dim(0);
        int c = x.dim(1);
        int s = Norms.spatial(x);
        int cg = c / groups;
        int m = cg * s;
        Tensor dy = tape.grad(y); // (N, C, S...)
        Tensor fresh = x.requiresGrad() ? tape.freshGrad(x) : null;
        Tensor dx = fresh != null ? fresh : x.requiresGrad() ? tape.grad(x) : null; // (N, C, S...)
        Tensor dgamma = gamma.requiresGrad() ? tape.grad(gamma) : null; // (C)
        Tensor dbeta = beta.requiresGrad() ? tape.grad(beta) : null; // (C)
        if (tape.planning()) {
            return;
        }
        float[] sd = sums.data();
        int dzOff = sums.offset(); // Σdz of (example, channel) at dzOff + ex·C + ch
        int dzxOff = dzOff + n * c; // Σdz·x̂ likewise
        float[] mask = relu ? y.data() : null;
        tape.compute().parallel().forRange(n * groups, Norms.grain(m), (from, to) -> {
            for (int ng = from; ng < to; ng++) {
                int first = (ng / groups) * c + (ng % groups) * cg; // (example, first channel of the group)
                int at = ng * m;
                for (int r = 0; r < cg; r++) {
                    NormKernels.groupNormChannelSums(sd, dzOff + first + r, dzxOff + first + r, x.data(),
                            x.offset() + at + r * s, dy.data(), dy.offset() + at + r * s, mask,
                            y.offset() + at + r * s, mean.get(ng), rstd.get(ng), s);
                }
                if (dx != null) {
                    NormKernels.groupNormBackward(dx.data(), dx.offset() + at, fresh == null, x.data(),
                            x.offset() + at, dy.data(), dy.offset() + at, mask, y.offset() + at, gamma.data(),
                            gamma.offset() + (ng % groups) * cg, sd, dzOff + first, dzxOff + first, cg, s,
                            mean.get(ng), rstd.get(ng));
                }
            }
        });
        if (dgamma != null || dbeta != null) {
            // Threads split the channels; each channel takes one add per example, examples ascending (law 3).
            tape.compute().parallel().forRange(c, 64, (from, to) -> {
                for (int ch = from; ch < to; ch++) {
                    for (int ex = 0; ex < n; ex++) {
                        if (dgamma != null) {
                            dgamma.set(ch, dgamma.get(ch) + sd[dzxOff + ex * c + ch]);
                        }
                        if (dbeta != null) {
                            dbeta.set(ch, dbeta.get(ch) + sd[dzOff + ex * c + ch]);
                        }
                    }
                }
            });
        }
    }
}
