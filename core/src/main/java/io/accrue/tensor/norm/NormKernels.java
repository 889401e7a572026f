package io.accrue.tensor.norm;

import io.accrue.tensor.VectorApi;

/**
 * The dispatcher and scalar oracles of the norm family: the row kernels of layer norm over C channels. Outputs
 * first, then inputs (STYLE 5); {@code *Scalar} methods are the oracle and the public methods run the Vector API
 * bodies in {@link VectorNorm} when {@code jdk.incubator.vector} is present, with the same bits.
 *
 * <p>Row sums (mean, variance, the two backward dot products) keep 8 float lane partials over the chunks of 8
 * channels, combine them as {@code ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7))} and add the tail channels in ascending
 * order: a fixed order, so a row has the same bits in any batch, on any thread and path. Precision: each lane
 * is a chain of C/8 float terms, so a sum's relative error is at most about (C/8 + 3)·2⁻²⁴ (5e−6 for C = 768,
 * and of order √(C/8)·2⁻²⁴ in practice) — fp32 accuracy for the normalised outputs; the variance is two-pass
 * (squares of x − mean), so there is no cancellation. The γ/β gradients are law 3's chains: lanes hold different
 * channels, each channel one fma/add chain over rows ascending from the gradient buffer's value.
 */
public final class NormKernels {
    private static final boolean VECTOR = VectorApi.AVAILABLE;
    static final int LANES = 8;

    private NormKernels() {
    }

    /**
     * One row of layer norm: {@code mean = Σx/C}, {@code rstd = 1/√(Σ(x − mean)²/C + eps)},
     * {@code y = fma((x − mean)·rstd, γ, β)}; stores mean at {@code mean[meanIdx]} and rstd at
     * {@code rstd[rstdIdx]}.
     */
    public static void layerNormRow(float[] y, int yOff, float[] mean, int meanIdx, float[] rstd, int rstdIdx,
                                    float[] x, int xOff, float[] gamma, int gOff, float[] beta, int bOff, int c,
                                    float eps) {
        if (VECTOR) {
            VectorNorm.layerNormRow(y, yOff, mean, meanIdx, rstd, rstdIdx, x, xOff, gamma, gOff, beta, bOff, c,
                    eps);
        } else {
            layerNormRowScalar(y, yOff, mean, meanIdx, rstd, rstdIdx, x, xOff, gamma, gOff, beta, bOff, c, eps);
        }
    }

    /** The oracle of {@link #layerNormRow}. */
    public static void layerNormRowScalar(float[] y, int yOff, float[] mean, int meanIdx, float[] rstd, int rstdIdx,
                                          float[] x, int xOff, float[] gamma, int gOff, float[] beta, int bOff, int c,
                                          float eps) {
        float m = meanScalar(x, xOff, c);
        float s = rstd(squaresScalar(x, xOff, c, m), c, eps);
        mean[meanIdx] = m;
        rstd[rstdIdx] = s;
        for (int j = 0; j < c; j++) {
            y[yOff + j] = Math.fma((x[xOff + j] - m) * s, gamma[gOff + j], beta[bOff + j]);
        }
    }

    /**
     * dx of one row: with {@code x̂ = (x − mean)·rstd}, {@code g = dy·γ}, {@code a = Σg/C}, {@code b = Σg·x̂/C}:
     * {@code dx = fma(rstd, fma(−x̂, b, g − a), dx)}.
     */
    public static void layerNormBackwardRow(float[] dx, int dxOff, float[] x, int xOff, float[] dy, int dyOff,
                                            float[] gamma, int gOff, float m, float s, int c) {
        if (VECTOR) {
            VectorNorm.layerNormBackwardRow(dx, dxOff, x, xOff, dy, dyOff, gamma, gOff, m, s, c);
        } else {
            layerNormBackwardRowScalar(dx, dxOff, x, xOff, dy, dyOff, gamma, gOff, m, s, c);
        }
    }

    /** The oracle of {@link #layerNormBackwardRow}. */
    public static void layerNormBackwardRowScalar(float[] dx, int dxOff, float[] x, int xOff, float[] dy, int dyOff,
                                                  float[] gamma, int gOff, float m, float s, int c) {
        int body = c - c % LANES;
        float sumG = ((gSum(dy, dyOff, gamma, gOff, body, 0) + gSum(dy, dyOff, gamma, gOff, body, 1))
                + (gSum(dy, dyOff, gamma, gOff, body, 2) + gSum(dy, dyOff, gamma, gOff, body, 3)))
                + ((gSum(dy, dyOff, gamma, gOff, body, 4) + gSum(dy, dyOff, gamma, gOff, body, 5))
                + (gSum(dy, dyOff, gamma, gOff, body, 6) + gSum(dy, dyOff, gamma, gOff, body, 7)));
        float sumGx = ((gxSum(x, xOff, dy, dyOff, gamma, gOff, m, s, body, 0)
                + gxSum(x, xOff, dy, dyOff, gamma, gOff, m, s, body, 1))
                + (gxSum(x, xOff, dy, dyOff, gamma, gOff, m, s, body, 2)
                + gxSum(x, xOff, dy, dyOff, gamma, gOff, m, s, body, 3)))
                + ((gxSum(x, xOff, dy, dyOff, gamma, gOff, m, s, body, 4)
                + gxSum(x, xOff, dy, dyOff, gamma, gOff, m, s, body, 5))
                + (gxSum(x, xOff, dy, dyOff, gamma, gOff, m, s, body, 6)
                + gxSum(x, xOff, dy, dyOff, gamma, gOff, m, s, body, 7)));
        for (int j = body; j < c; j++) {
            float xhat = (x[xOff + j] - m) * s;
            float g = dy[dyOff + j] * gamma[gOff + j];
            sumG += g;
            sumGx = Math.fma(g, xhat, sumGx);
        }
        float a = sumG / c;
        float b = sumGx / c;
        for (int j = 0; j < c; j++) {
            float xhat = (x[xOff + j] - m) * s;
            float g = dy[dyOff + j] * gamma[gOff + j];
            dx[dxOff + j] = Math.fma(s, Math.fma(-xhat, b, g - a), dx[dxOff + j]);
        }
    }

    /**
     * One row's share of the γ/β gradients over channels [from, to): {@code dγ[i] = fma(x̂[i], dy[i], dγ[i])},
     * {@code dβ[i] += dy[i]}; {@code dgamma} or {@code dbeta} may be null (not needed).
     */
    public static void layerNormParamRow(float[] dgamma, int dgOff, float[] dbeta, int dbOff, float[] x, int xOff,
                                         float[] dy, int dyOff, float m, float s, int from, int to) {
        if (VECTOR) {
            VectorNorm.layerNormParamRow(dgamma, dgOff, dbeta, dbOff, x, xOff, dy, dyOff, m, s, from, to);
        } else {
            layerNormParamRowScalar(dgamma, dgOff, dbeta, dbOff, x, xOff, dy, dyOff, m, s, from, to);
        }
    }

    /** The oracle of {@link #layerNormParamRow}. */
    public static void layerNormParamRowScalar(float[] dgamma, int dgOff, float[] dbeta, int dbOff, float[] x,
                                               int xOff, float[] dy, int dyOff, float m, float s, int from, int to) {
        if (dgamma != null) {
            for (int i = from; i < to; i++) {
                float xhat = (x[xOff + i] - m) * s;
                dgamma[dgOff + i] = Math.fma(xhat, dy[dyOff + i], dgamma[dgOff + i]);
            }
        }
        if (dbeta != null) {
            for (int i = from; i < to; i++) {
                dbeta[dbOff + i] += dy[dyOff + i];
            }
        }
    }

    /** Σx/c over {@code x[xOff, xOff + c)} in the fixed order of 8 lane partials and an ascending tail. */
    private static float meanScalar(float[] x, int xOff, int c) {
        int body = c - c % LANES;
        float sum = ((sum(x, xOff, body, 0) + sum(x, xOff, body, 1)) + (sum(x, xOff, body, 2) + sum(x, xOff, body, 3)))
                + ((sum(x, xOff, body, 4) + sum(x, xOff, body, 5)) + (sum(x, xOff, body, 6) + sum(x, xOff, body, 7)));
        for (int j = body; j < c; j++) {
            sum += x[xOff + j];
        }
        return sum / c;
    }

    /** Σ(x − m)² over {@code x[xOff, xOff + c)}, the order of {@link #meanScalar}. */
    private static float squaresScalar(float[] x, int xOff, int c, float m) {
        int body = c - c % LANES;
        float sq = ((squares(x, xOff, body, 0, m) + squares(x, xOff, body, 1, m))
                + (squares(x, xOff, body, 2, m) + squares(x, xOff, body, 3, m)))
                + ((squares(x, xOff, body, 4, m) + squares(x, xOff, body, 5, m))
                + (squares(x, xOff, body, 6, m) + squares(x, xOff, body, 7, m)));
        for (int j = body; j < c; j++) {
            float d = x[xOff + j] - m;
            sq = Math.fma(d, d, sq);
        }
        return sq;
    }

    // ---- group norm: a group is `runs` channels of `len` contiguous positions, one block of runs·len floats

    /**
     * One group of group norm, optionally followed by ReLU: {@code mean = Σx/M}, {@code rstd = 1/√(Σ(x − mean)²/M
     * + eps)} over the block of {@code M = runs·len} floats at {@code xOff} (the sums as {@link #layerNormRow}'s),
     * then per channel r {@code y = fma((x − mean)·rstd, γ[gOff + r], β[bOff + r])}, and with {@code relu}
     * {@code y > 0 ? y : 0}; stores them at {@code mean[meanIdx]} and {@code rstd[rstdIdx]}.
     */
    public static void groupNorm(float[] y, int yOff, float[] mean, int meanIdx, float[] rstd, int rstdIdx,
                                 float[] x, int xOff, float[] gamma, int gOff, float[] beta, int bOff, int runs,
                                 int len, float eps, boolean relu) {
        if (VECTOR) {
            VectorNorm.groupNorm(y, yOff, mean, meanIdx, rstd, rstdIdx, x, xOff, gamma, gOff, beta, bOff, runs, len,
                    eps, relu);
        } else {
            groupNormScalar(y, yOff, mean, meanIdx, rstd, rstdIdx, x, xOff, gamma, gOff, beta, bOff, runs, len, eps,
                    relu);
        }
    }

    /** The oracle of {@link #groupNorm}. */
    public static void groupNormScalar(float[] y, int yOff, float[] mean, int meanIdx, float[] rstd, int rstdIdx,
                                       float[] x, int xOff, float[] gamma, int gOff, float[] beta, int bOff, int runs,
                                       int len, float eps, boolean relu) {
        int count = runs * len;
        float m = meanScalar(x, xOff, count);
        float s = rstd(squaresScalar(x, xOff, count, m), count, eps);
        mean[meanIdx] = m;
        rstd[rstdIdx] = s;
        for (int r = 0; r < runs; r++) {
            float ga = gamma[gOff + r];
            float be = beta[bOff + r];
            for (int p = r * len; p < (r + 1) * len; p++) {
                float v = Math.fma((x[xOff + p] - m) * s, ga, be);
                y[yOff + p] = relu && !(v > 0f) ? 0f : v;
            }
        }
    }

    /**
     * One channel's sums for group norm's backward, over its {@code len} positions: {@code Σdz} into
     * {@code sums[dzIdx]} and {@code Σdz·x̂} into {@code sums[dzxIdx]}, with {@code x̂ = (x − m)·s} and
     * {@code dz = dy}, or after a fused ReLU ({@code y} not null) {@code dz = y > 0 ? dy : 0}; the sums as
     * {@link #layerNormRow}'s (8 lane partials, then the tail ascending).
     */
    public static void groupNormChannelSums(float[] sums, int dzIdx, int dzxIdx, float[] x, int xOff, float[] dy,
                                            int dyOff, float[] y, int yOff, float m, float s, int len) {
        if (VECTOR) {
            VectorNorm.groupNormChannelSums(sums, dzIdx, dzxIdx, x, xOff, dy, dyOff, y, yOff, m, s, len);
        } else {
            groupNormChannelSumsScalar(sums, dzIdx, dzxIdx, x, xOff, dy, dyOff, y, yOff, m, s, len);
        }
    }

    /** The oracle of {@link #groupNormChannelSums}. */
    public static void groupNormChannelSumsScalar(float[] sums, int dzIdx, int dzxIdx, float[] x, int xOff,
                                                  float[] dy, int dyOff, float[] y, int yOff, float m, float s,
                                                  int len) {
        int body = len - len % LANES;
        float sumDz = ((dzSum(dy, dyOff, y, yOff, body, 0) + dzSum(dy, dyOff, y, yOff, body, 1))
                + (dzSum(dy, dyOff, y, yOff, body, 2) + dzSum(dy, dyOff, y, yOff, body, 3)))
                + ((dzSum(dy, dyOff, y, yOff, body, 4) + dzSum(dy, dyOff, y, yOff, body, 5))
                + (dzSum(dy, dyOff, y, yOff, body, 6) + dzSum(dy, dyOff, y, yOff, body, 7)));
        float sumDzx = ((dzxSum(x, xOff, dy, dyOff, y, yOff, m, s, body, 0)
                + dzxSum(x, xOff, dy, dyOff, y, yOff, m, s, body, 1))
                + (dzxSum(x, xOff, dy, dyOff, y, yOff, m, s, body, 2)
                + dzxSum(x, xOff, dy, dyOff, y, yOff, m, s, body, 3)))
                + ((dzxSum(x, xOff, dy, dyOff, y, yOff, m, s, body, 4)
                + dzxSum(x, xOff, dy, dyOff, y, yOff, m, s, body, 5))
                + (dzxSum(x, xOff, dy, dyOff, y, yOff, m, s, body, 6)
                + dzxSum(x, xOff, dy, dyOff, y, yOff, m, s, body, 7)));
        for (int p = body; p < len; p++) {
            float d = dz(dy, dyOff, y, yOff, p);
            sumDz += d;
            sumDzx = Math.fma(d, (x[xOff + p] - m) * s, sumDzx);
        }
        sums[dzIdx] = sumDz;
        sums[dzxIdx] = sumDzx;
    }

    /** Lane l's partial of Σdz over the body. */
    private static float dzSum(float[] dy, int dyOff, float[] y, int yOff, int body, int l) {
        float p = 0f;
        for (int j = l; j < body; j += LANES) {
            p += dz(dy, dyOff, y, yOff, j);
        }
        return p;
    }

    /** Lane l's partial of Σdz·x̂, one fma chain. */
    private static float dzxSum(float[] x, int xOff, float[] dy, int dyOff, float[] y, int yOff, float m, float s,
                                int body, int l) {
        float p = 0f;
        for (int j = l; j < body; j += LANES) {
            p = Math.fma(dz(dy, dyOff, y, yOff, j), (x[xOff + j] - m) * s, p);
        }
        return p;
    }

    /** dy at position p, or 0 where a fused ReLU's output y is not positive. */
    private static float dz(float[] dy, int dyOff, float[] y, int yOff, int p) {
        return y == null || y[yOff + p] > 0f ? dy[dyOff + p] : 0f;
    }

    /**
     * dx of one group from its channels' sums ({@link #groupNormChannelSums}, channel r at {@code dzOff + r} and
     * {@code dzxOff + r}): with {@code a = Σ_r γ_r·Σdz_r / M} and {@code b = Σ_r γ_r·Σ(dz·x̂)_r / M} (fma chains
     * over r ascending) and {@code g = dz·γ}: {@code dx = fma(rstd, fma(−x̂, b, g − a), dx)}, or onto +0 without
     * {@code accumulate} (dx is not read).
     */
    public static void groupNormBackward(float[] dx, int dxOff, boolean accumulate, float[] x, int xOff, float[] dy,
                                         int dyOff, float[] y, int yOff, float[] gamma, int gOff, float[] sums,
                                         int dzOff, int dzxOff, int runs, int len, float m, float s) {
        if (VECTOR) {
            VectorNorm.groupNormBackward(dx, dxOff, accumulate, x, xOff, dy, dyOff, y, yOff, gamma, gOff, sums, dzOff,
                    dzxOff, runs, len, m, s);
        } else {
            groupNormBackwardScalar(dx, dxOff, accumulate, x, xOff, dy, dyOff, y, yOff, gamma, gOff, sums, dzOff,
                    dzxOff, runs, len, m, s);
        }
    }

    /** The oracle of {@link #groupNormBackward}. */
    public static void groupNormBackwardScalar(float[] dx, int dxOff, boolean accumulate, float[] x, int xOff,
                                               float[] dy, int dyOff, float[] y, int yOff, float[] gamma, int gOff,
                                               float[] sums, int dzOff, int dzxOff, int runs, int len, float m,
                                               float s) {
        float a = weightedMean(gamma, gOff, sums, dzOff, runs, len);
        float b = weightedMean(gamma, gOff, sums, dzxOff, runs, len);
        for (int r = 0; r < runs; r++) {
            float ga = gamma[gOff + r];
            for (int p = r * len; p < (r + 1) * len; p++) {
                float xhat = (x[xOff + p] - m) * s;
                float g = dz(dy, dyOff, y, yOff, p) * ga;
                dx[dxOff + p] = Math.fma(s, Math.fma(-xhat, b, g - a), accumulate ? dx[dxOff + p] : 0f);
            }
        }
    }

    /** {@code Σ_r γ_r·sums[off + r] / (runs·len)}, one fma chain over r ascending from +0. */
    static float weightedMean(float[] gamma, int gOff, float[] sums, int off, int runs, int len) {
        float acc = 0f;
        for (int r = 0; r < runs; r++) {
            acc = Math.fma(gamma[gOff + r], sums[off + r], acc);
        }
        return acc / (runs * len);
    }

    /** {@code 1/√(sq/c + eps)} in float (the square root correctly rounded). */
    static float rstd(float sq, int c, float eps) {
        return 1f / (float) Math.sqrt(sq / c + eps);
    }

    /** Lane l's partial of Σx over the body: {@code x[l] + x[l+8] + …} in order, from +0. */
    private static float sum(float[] x, int xOff, int body, int l) {
        float p = 0f;
        for (int j = l; j < body; j += LANES) {
            p += x[xOff + j];
        }
        return p;
    }

    /** Lane l's partial of Σ(x − m)², one fma chain. */
    private static float squares(float[] x, int xOff, int body, int l, float m) {
        float p = 0f;
        for (int j = l; j < body; j += LANES) {
            float d = x[xOff + j] - m;
            p = Math.fma(d, d, p);
        }
        return p;
    }

    /** Lane l's partial of Σ dy·γ. */
    private static float gSum(float[] dy, int dyOff, float[] gamma, int gOff, int body, int l) {
        float p = 0f;
        for (int j = l; j < body; j += LANES) {
            p += dy[dyOff + j] * gamma[gOff + j];
        }
        return p;
    }

    /** Lane l's partial of Σ (dy·γ)·x̂, one fma chain. */
    private static float gxSum(float[] x, int xOff, float[] dy, int dyOff, float[] gamma, int gOff, float m, float s,
                               int body, int l) {
        float p = 0f;
        for (int j = l; j < body; j += LANES) {
            float xhat = (x[xOff + j] - m) * s;
            p = Math.fma(dy[dyOff + j] * gamma[gOff + j], xhat, p);
        }
        return p;
    }
}
