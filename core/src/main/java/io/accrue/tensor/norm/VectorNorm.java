package io.accrue.tensor.norm;

import io.accrue.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
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
        FloatVector part = FloatVector.zero(S);
        int j = 0;
        for (; j < bound; j += W) {
            part = part.add(FloatVector.fromArray(S, x, xOff + j));
        }
        float sum = Lanes.combine(part);
        for (; j < c; j++) {
            sum += x[xOff + j];
        }
        float m = sum / c;
        FloatVector vm = FloatVector.broadcast(S, m);
        part = FloatVector.zero(S);
        for (j = 0; j < bound; j += W) {
            FloatVector d = FloatVector.fromArray(S, x, xOff + j).sub(vm);
            part = d.fma(d, part);
        }
        float sq = Lanes.combine(part);
        for (; j < c; j++) {
            float d = x[xOff + j] - m;
            sq = Math.fma(d, d, sq);
        }
        float s = NormKernels.rstd(sq, c, eps);
        mean[meanIdx] = m;
        rstd[rstdIdx] = s;
        for (j = 0; j < bound; j += W) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + j).sub(vm).mul(s);
            xhat.fma(FloatVector.fromArray(S, gamma, gOff + j), FloatVector.fromArray(S, beta, bOff + j))
                    .intoArray(y, yOff + j);
        }
        for (; j < c; j++) {
            y[yOff + j] = Math.fma((x[xOff + j] - m) * s, gamma[gOff + j], beta[bOff + j]);
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
