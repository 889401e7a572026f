package io.accrue.tensor.norm;

import io.accrue.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API bodies of {@link NormKernels}; loaded only when {@code jdk.incubator.vector} is present. Each gives
 * exactly the bits of its scalar oracle. A row's sums keep 8 lane partials ({@link Lanes#EIGHT}, on every machine)
 * combined in the oracle's fixed order ({@link Lanes#combine}); the γ/β gradients' lanes are independent channels,
 * so they run on {@link Lanes#WIDE}. Tails use the oracle's operations in its order.
 */
final class VectorNorm {
    private static final VectorSpecies<Float> S = Lanes.EIGHT;
    private static final int W = 8;
    private static final VectorSpecies<Float> L = Lanes.WIDE;
    private static final int LW = L.length();

    private VectorNorm() {
    }

    static void layerNormRow(float[] y, int yOff, float[] mean, int meanIdx, float[] rstd, int rstdIdx,
                             float[] x, int xOff, float[] gamma, int gOff, float[] beta, int bOff, int c, float eps) {
        int bound = S.loopBound(c);
        float m = mean(x, xOff, c);
        FloatVector vm = FloatVector.broadcast(S, m);
        float sq = squares(x, xOff, c, m);
        float s = NormKernels.rstd(sq, c, eps);
        mean[meanIdx] = m;
        rstd[rstdIdx] = s;
        int j = 0;
        for (; j < bound; j += W) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + j).sub(vm).mul(s);
            xhat.fma(FloatVector.fromArray(S, gamma, gOff + j), FloatVector.fromArray(S, beta, bOff + j))
                    .intoArray(y, yOff + j);
        }
        for (; j < c; j++) {
            y[yOff + j] = Math.fma((x[xOff + j] - m) * s, gamma[gOff + j], beta[bOff + j]);
        }
    }

    /** Σx/c in {@link NormKernels}' order: 8 lane partials combined by {@link Lanes#combine}, the tail ascending. */
    private static float mean(float[] x, int xOff, int c) {
        int bound = S.loopBound(c);
        FloatVector part = FloatVector.zero(S);
        int j = 0;
        for (; j < bound; j += W) {
            part = part.add(FloatVector.fromArray(S, x, xOff + j));
        }
        float sum = Lanes.combine(part);
        for (; j < c; j++) {
            sum += x[xOff + j];
        }
        return sum / c;
    }

    /** Σ(x − m)², the order of {@link #mean}. */
    private static float squares(float[] x, int xOff, int c, float m) {
        int bound = S.loopBound(c);
        FloatVector vm = FloatVector.broadcast(S, m);
        FloatVector part = FloatVector.zero(S);
        int j = 0;
        for (; j < bound; j += W) {
            FloatVector d = FloatVector.fromArray(S, x, xOff + j).sub(vm);
            part = d.fma(d, part);
        }
        float sq = Lanes.combine(part);
        for (; j < c; j++) {
            float d = x[xOff + j] - m;
            sq = Math.fma(d, d, sq);
        }
        return sq;
    }

    static void groupNorm(float[] y, int yOff, float[] mean, int meanIdx, float[] rstd, int rstdIdx, float[] x,
                          int xOff, float[] gamma, int gOff, float[] beta, int bOff, int runs, int len, float eps,
                          boolean relu) {
        int count = runs * len;
        float m = mean(x, xOff, count);
        float s = NormKernels.rstd(squares(x, xOff, count, m), count, eps);
        mean[meanIdx] = m;
        rstd[rstdIdx] = s;
        // every scalar operand broadcast once, outside the loops: the JIT's early tiers do not hoist broadcasts
        FloatVector vm = FloatVector.broadcast(L, m);
        FloatVector vs = FloatVector.broadcast(L, s);
        FloatVector zero = FloatVector.zero(L);
        int bound = L.loopBound(len);
        for (int r = 0; r < runs; r++) {
            float ga = gamma[gOff + r];
            float be = beta[bOff + r];
            FloatVector vga = FloatVector.broadcast(L, ga);
            FloatVector vbe = FloatVector.broadcast(L, be);
            int base = r * len;
            int p = 0;
            for (; p < bound; p += LW) {
                FloatVector v = FloatVector.fromArray(L, x, xOff + base + p).sub(vm).mul(vs).fma(vga, vbe);
                (relu ? zero.blend(v, v.compare(VectorOperators.GT, zero)) : v).intoArray(y, yOff + base + p);
            }
            for (; p < len; p++) {
                float v = Math.fma((x[xOff + base + p] - m) * s, ga, be);
                y[yOff + base + p] = relu && !(v > 0f) ? 0f : v;
            }
        }
    }

    static void groupNormChannelSums(float[] sums, int dzIdx, int dzxIdx, float[] x, int xOff, float[] dy,
                                     int dyOff, float[] y, int yOff, float m, float s, int len) {
        int bound = S.loopBound(len);
        FloatVector vm = FloatVector.broadcast(S, m);
        FloatVector vs = FloatVector.broadcast(S, s);
        FloatVector zero = FloatVector.zero(S);
        FloatVector pdz = zero;
        FloatVector pdzx = zero;
        int p = 0;
        for (; p < bound; p += W) {
            FloatVector d = FloatVector.fromArray(S, dy, dyOff + p);
            if (y != null) {
                d = zero.blend(d, FloatVector.fromArray(S, y, yOff + p).compare(VectorOperators.GT, zero));
            }
            pdz = pdz.add(d);
            pdzx = d.fma(FloatVector.fromArray(S, x, xOff + p).sub(vm).mul(vs), pdzx);
        }
        float sumDz = Lanes.combine(pdz);
        float sumDzx = Lanes.combine(pdzx);
        for (; p < len; p++) {
            float d = y == null || y[yOff + p] > 0f ? dy[dyOff + p] : 0f;
            sumDz += d;
            sumDzx = Math.fma(d, (x[xOff + p] - m) * s, sumDzx);
        }
        sums[dzIdx] = sumDz;
        sums[dzxIdx] = sumDzx;
    }

    static void groupNormBackward(float[] dx, int dxOff, boolean accumulate, float[] x, int xOff, float[] dy,
                                  int dyOff, float[] y, int yOff, float[] gamma, int gOff, float[] sums, int dzOff,
                                  int dzxOff, int runs, int len, float m, float s) {
        float a = NormKernels.weightedMean(gamma, gOff, sums, dzOff, runs, len);
        float b = NormKernels.weightedMean(gamma, gOff, sums, dzxOff, runs, len);
        FloatVector vm = FloatVector.broadcast(L, m);
        FloatVector vs = FloatVector.broadcast(L, s);
        FloatVector va = FloatVector.broadcast(L, a);
        FloatVector nb = FloatVector.broadcast(L, -b);
        FloatVector zero = FloatVector.zero(L);
        int bound = L.loopBound(len);
        for (int r = 0; r < runs; r++) {
            float ga = gamma[gOff + r];
            FloatVector vga = FloatVector.broadcast(L, ga);
            int base = r * len;
            int p = 0;
            for (; p < bound; p += LW) {
                int e = base + p;
                FloatVector d = FloatVector.fromArray(L, dy, dyOff + e);
                if (y != null) {
                    d = zero.blend(d, FloatVector.fromArray(L, y, yOff + e).compare(VectorOperators.GT, zero));
                }
                FloatVector xhat = FloatVector.fromArray(L, x, xOff + e).sub(vm).mul(vs);
                FloatVector t = xhat.fma(nb, d.mul(vga).sub(va));
                vs.fma(t, accumulate ? FloatVector.fromArray(L, dx, dxOff + e) : zero).intoArray(dx, dxOff + e);
            }
            for (; p < len; p++) {
                int e = base + p;
                float xhat = (x[xOff + e] - m) * s;
                float g = (y == null || y[yOff + e] > 0f ? dy[dyOff + e] : 0f) * ga;
                dx[dxOff + e] = Math.fma(s, Math.fma(-xhat, b, g - a), accumulate ? dx[dxOff + e] : 0f);
            }
        }
    }

    static void layerNormBackwardRow(float[] dx, int dxOff, float[] x, int xOff, float[] dy, int dyOff,
                                     float[] gamma, int gOff, float m, float s, int c) {
        int bound = S.loopBound(c);
        FloatVector vm = FloatVector.broadcast(S, m);
        FloatVector pg = FloatVector.zero(S);
        FloatVector pgx = FloatVector.zero(S);
        int j = 0;
        for (; j < bound; j += W) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + j).sub(vm).mul(s);
            FloatVector g = FloatVector.fromArray(S, dy, dyOff + j).mul(FloatVector.fromArray(S, gamma, gOff + j));
            pg = pg.add(g);
            pgx = g.fma(xhat, pgx);
        }
        float sumG = Lanes.combine(pg);
        float sumGx = Lanes.combine(pgx);
        for (; j < c; j++) {
            float xhat = (x[xOff + j] - m) * s;
            float g = dy[dyOff + j] * gamma[gOff + j];
            sumG += g;
            sumGx = Math.fma(g, xhat, sumGx);
        }
        float a = sumG / c;
        float b = sumGx / c;
        FloatVector vs = FloatVector.broadcast(S, s);
        FloatVector nb = FloatVector.broadcast(S, -b);
        for (j = 0; j < bound; j += W) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + j).sub(vm).mul(s);
            FloatVector g = FloatVector.fromArray(S, dy, dyOff + j).mul(FloatVector.fromArray(S, gamma, gOff + j));
            FloatVector t = xhat.fma(nb, g.sub(a));
            vs.fma(t, FloatVector.fromArray(S, dx, dxOff + j)).intoArray(dx, dxOff + j);
        }
        for (; j < c; j++) {
            float xhat = (x[xOff + j] - m) * s;
            float g = dy[dyOff + j] * gamma[gOff + j];
            dx[dxOff + j] = Math.fma(s, Math.fma(-xhat, b, g - a), dx[dxOff + j]);
        }
    }

    static void layerNormParamRow(float[] dgamma, int dgOff, float[] dbeta, int dbOff, float[] x, int xOff,
                                  float[] dy, int dyOff, float m, float s, int from, int to) {
        int bound = from + L.loopBound(to - from);
        if (dgamma != null) {
            FloatVector vm = FloatVector.broadcast(L, m);
            int i = from;
            for (; i < bound; i += LW) {
                FloatVector xhat = FloatVector.fromArray(L, x, xOff + i).sub(vm).mul(s);
                xhat.fma(FloatVector.fromArray(L, dy, dyOff + i), FloatVector.fromArray(L, dgamma, dgOff + i))
                        .intoArray(dgamma, dgOff + i);
            }
            for (; i < to; i++) {
                float xhat = (x[xOff + i] - m) * s;
                dgamma[dgOff + i] = Math.fma(xhat, dy[dyOff + i], dgamma[dgOff + i]);
            }
        }
        if (dbeta != null) {
            int i = from;
            for (; i < bound; i += LW) {
                FloatVector.fromArray(L, dbeta, dbOff + i).add(FloatVector.fromArray(L, dy, dyOff + i))
                        .intoArray(dbeta, dbOff + i);
            }
            for (; i < to; i++) {
                dbeta[dbOff + i] += dy[dyOff + i];
            }
        }
    }
}
