package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.norm.NormKernels;

/**
 * What the norm ops share: the γ/β shape check, the thread grain of a row loop, the γ/β gradients of the row norms
 * (layer and RMS norm), and the loops of batch norm over one <em>normalization set</em> (the values that
 * share a mean and rstd).
 *
 * <p>A set is {@code runs} runs of {@code len} contiguous floats, {@code stride} apart, starting at {@code start}
 * (relative to each tensor's offset): a batch-norm channel is N runs of S, C·S apart. x, y, dy and dx share that
 * layout, and the whole set shares the γ and β of its channel {@code param}. Sums over a set are in double, one
 * sequential loop each, runs ascending and positions ascending within a run: a fixed order, so a set has the same
 * bits every time, and the two-pass variance has no cancellation.
 */
final class Norms {
    private Norms() {
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

    /** Throws naming the input unless x is (N, C) or (N, C, spatial...), as batch and group norm need. */
    static void requireChannels(String op, Tensor x) {
        if (x.rank() < 2) {
            throw new IllegalArgumentException(op + ": input " + x + " must be (N, C) or (N, C, spatial...)");
        }
    }

    /** S of an (N, C, spatial...) input: the product of the dimensions after C (1 for rank 2). */
    static int spatial(Tensor x) {
        return x.size() / (x.dim(0) * x.dim(1));
    }

    /**
     * γ/β gradients of a norm over the last dimension C: {@code dγ += Σ_rows x̂·dy}, {@code dβ += Σ_rows dy} with
     * {@code x̂ = (x − mean)·rstd}. Threads split the channels; each channel is one chain over rows ascending that
     * starts from the buffer's value (storing and reloading a float between rows is exact, so this is law 3's
     * chain). RMS norm passes {@code mean} null: x − 0 is exactly x, so x̂ = x·rstd to the bit. {@code dgamma} or
     * {@code dbeta} may be null (not needed).
     */
    static void rowAffineGrads(Tape tape, Tensor dgamma, Tensor dbeta, Tensor x, Tensor dy, Tensor mean,
                               Tensor rstd) {
        if (dgamma == null && dbeta == null) {
            return;
        }
        int c = x.cols();
        int rows = x.rows();
        float[] xd = x.data();
        float[] dyd = dy.data();
        float[] dg = dgamma == null ? null : dgamma.data();
        float[] db = dbeta == null ? null : dbeta.data();
        int dgo = dgamma == null ? 0 : dgamma.offset();
        int dbo = dbeta == null ? 0 : dbeta.offset();
        tape.compute().parallel().forRange(c, 64, (from, to) -> {
            for (int r = 0; r < rows; r++) {
                float m = mean == null ? 0f : mean.get(r);
                NormKernels.layerNormParamRow(dg, dgo, db, dbo, xd, x.offset() + r * c, dyd, dy.offset() + r * c, m,
                        rstd.get(r), from, to);
            }
        });
    }

    /**
     * Stores the set's {@code mean = Σx/M} and {@code rstd = 1/√(Σ(x − mean)²/M + eps)} (biased variance) at
     * index {@code stat} of {@code mean} and {@code rstd}; returns {@code Σ(x − mean)²}, from which batch norm
     * takes its running variance.
     */
    static double statistics(Tensor mean, Tensor rstd, int stat, Tensor x, int start, int runs, int len, int stride,
                             float eps) {
        float[] xd = x.data();
        int first = x.offset() + start;
        int count = runs * len;
        double sum = 0;
        for (int r = 0; r < runs; r++) {
            int e = first + r * stride;
            for (int p = 0; p < len; p++) {
                sum += xd[e + p];
            }
        }
        double mu = sum / count;
        double sq = 0;
        for (int r = 0; r < runs; r++) {
            int e = first + r * stride;
            for (int p = 0; p < len; p++) {
                double d = xd[e + p] - mu;
                sq += d * d;
            }
        }
        mean.set(stat, (float) mu);
        rstd.set(stat, (float) (1.0 / Math.sqrt(sq / count + eps)));
        return sq;
    }

    /** {@code y = fma((x − m)·s, γ, β)} over the set. */
    static void affine(Tensor y, Tensor x, Tensor gamma, Tensor beta, int param, int start, int runs,
                       int len, int stride, float m, float s) {
        float[] xd = x.data();
        float[] yd = y.data();
        int xo = x.offset();
        int yo = y.offset();
        float ga = gamma.get(param);
        float be = beta.get(param);
        for (int r = 0; r < runs; r++) {
            int e = start + r * stride;
            for (int p = 0; p < len; p++) {
                float xhat = (xd[xo + e + p] - m) * s;
                yd[yo + e + p] = Math.fma(xhat, ga, be);
            }
        }
    }

    /**
     * {@code dx += s·(g − Σg/M − x̂·Σ(g·x̂)/M)} over the set, with {@code x̂ = (x − m)·s} and {@code g = dy·γ}
     * (the two sums in double).
     */
    static void inputGrad(Tensor dx, Tensor x, Tensor dy, Tensor gamma, int param, int start,
                          int runs, int len, int stride, float m, float s) {
        float[] xd = x.data();
        float[] dyd = dy.data();
        float[] dxd = dx.data();
        int xo = x.offset();
        int dyo = dy.offset();
        int dxo = dx.offset();
        int count = runs * len;
        double sumG = 0;
        double sumGx = 0;
        float ga = gamma.get(param);
        for (int r = 0; r < runs; r++) {
            int e = start + r * stride;
            for (int p = 0; p < len; p++) {
                float xhat = (xd[xo + e + p] - m) * s;
                float g = dyd[dyo + e + p] * ga;
                sumG += g;
                sumGx += (double) g * xhat;
            }
        }
        double meanG = sumG / count;
        double meanGx = sumGx / count;
        for (int r = 0; r < runs; r++) {
            int e = start + r * stride;
            for (int p = 0; p < len; p++) {
                float xhat = (xd[xo + e + p] - m) * s;
                float g = dyd[dyo + e + p] * ga;
                dxd[dxo + e + p] += (float) (s * (g - meanG - xhat * meanGx));
            }
        }
    }

    /**
     * Channel {@code ch}'s share of the γ/β gradients from {@code runs} runs of the set layout (all of them with
     * one mean m and rstd s): {@code dγ[ch] = fma(x̂, dy, dγ[ch])} and {@code dβ[ch] += dy}, runs ascending and
     * positions ascending, one chain that continues from the buffer's value (storing and reloading a float
     * between calls is exact, so calls in example order extend law 3's one chain). {@code dgamma} or
     * {@code dbeta} may be null (not needed).
     */
    static void affineGrads(Tensor dgamma, Tensor dbeta, int ch, Tensor x, Tensor dy, int start, int runs, int len,
                            int stride, float m, float s) {
        float[] xd = x.data();
        float[] dyd = dy.data();
        int xs = x.offset() + start;
        int dys = dy.offset() + start;
        if (dgamma != null) {
            float acc = dgamma.get(ch);
            for (int r = 0; r < runs; r++) {
                for (int p = 0; p < len; p++) {
                    float xhat = (xd[xs + r * stride + p] - m) * s;
                    acc = Math.fma(xhat, dyd[dys + r * stride + p], acc);
                }
            }
            dgamma.set(ch, acc);
        }
        if (dbeta != null) {
            float acc = dbeta.get(ch);
            for (int r = 0; r < runs; r++) {
                for (int p = 0; p < len; p++) {
                    acc += dyd[dys + r * stride + p];
                }
            }
            dbeta.set(ch, acc);
        }
    }
}
