package io.accrue.tensor.elementwise;

import io.accrue.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static io.accrue.tensor.elementwise.Elementwise.CHUNK;
import static io.accrue.tensor.elementwise.Elementwise.GELU_2K;
import static io.accrue.tensor.elementwise.Elementwise.GELU_3C;
import static io.accrue.tensor.elementwise.Elementwise.GELU_C;
import static io.accrue.tensor.elementwise.Elementwise.GELU_M2K;
import static io.accrue.tensor.elementwise.Exp.NEGLIGIBLE;
import static io.accrue.tensor.elementwise.Exp.exp;
import static io.accrue.tensor.elementwise.Exp.flushNegligible;

/**
 * The Vector API bodies of {@link Elementwise}; loaded only when {@code jdk.incubator.vector} is present. Each
 * method gives exactly the bits of its scalar oracle: lanes hold independent elements (or, for the column sums,
 * independent columns, each one chain over the rows), every operation is IEEE-exact lanewise, and the tails use
 * the oracle's operations in its order. Lanes hold independent outputs here, so every kernel runs on
 * {@link Lanes#WIDE}. The kernels that need exp stage its arguments in the caller's scratch {@code t}
 * ({@link Elementwise#CHUNK} floats) and call {@link VectorExp#expVectors} on it.
 */
final class VectorElementwise {
    private static final VectorSpecies<Float> L = Lanes.WIDE;
    private static final int LW = L.length();

    private VectorElementwise() {
    }

    static void add(float[] y, int yOff, float[] a, int aOff, float[] b, int bOff, int n) {
        int bound = L.loopBound(n);
        for (int i = 0; i < bound; i += LW) {
            FloatVector.fromArray(L, a, aOff + i).add(FloatVector.fromArray(L, b, bOff + i)).intoArray(y, yOff + i);
        }
        if (bound < n) { // one masked vector, not a scalar loop: col2im adds many rows shorter than two vectors
            VectorMask<Float> tail = L.indexInRange(bound, n);
            FloatVector.fromArray(L, a, aOff + bound, tail).add(FloatVector.fromArray(L, b, bOff + bound, tail))
                    .intoArray(y, yOff + bound, tail);
        }
    }

    /** Columns summed at once: four vectors of accumulators, loaded once and stored once for all rows. */
    private static final int SUM_COLUMNS = 4 * LW;

    static void addColumnSums(float[] out, int oOff, float[] x, int xOff, int ld, int rows, int j0, int j1) {
        int j = j0;
        for (; j + SUM_COLUMNS <= j1; j += SUM_COLUMNS) {
            int o = oOff + j;
            FloatVector s0 = FloatVector.fromArray(L, out, o);
            FloatVector s1 = FloatVector.fromArray(L, out, o + LW);
            FloatVector s2 = FloatVector.fromArray(L, out, o + 2 * LW);
            FloatVector s3 = FloatVector.fromArray(L, out, o + 3 * LW);
            for (int r = 0, xi = xOff + j; r < rows; r++, xi += ld) {
                s0 = s0.add(FloatVector.fromArray(L, x, xi));
                s1 = s1.add(FloatVector.fromArray(L, x, xi + LW));
                s2 = s2.add(FloatVector.fromArray(L, x, xi + 2 * LW));
                s3 = s3.add(FloatVector.fromArray(L, x, xi + 3 * LW));
            }
            s0.intoArray(out, o);
            s1.intoArray(out, o + LW);
            s2.intoArray(out, o + 2 * LW);
            s3.intoArray(out, o + 3 * LW);
        }
        for (; j + LW <= j1; j += LW) {
            FloatVector s0 = FloatVector.fromArray(L, out, oOff + j);
            for (int r = 0, xi = xOff + j; r < rows; r++, xi += ld) {
                s0 = s0.add(FloatVector.fromArray(L, x, xi));
            }
            s0.intoArray(out, oOff + j);
        }
        Elementwise.addColumnSumsScalar(out, oOff, x, xOff, ld, rows, j, j1);
    }

    static void gelu(float[] y, int yOff, float[] x, int xOff, int n) {
        int bound = L.loopBound(n);
        for (int c0 = 0; c0 < bound; c0 += CHUNK) {
            int c1 = Math.min(bound, c0 + CHUNK);
            for (int i = c0; i < c1; i += LW) { // exp's argument, through y
                FloatVector xv = FloatVector.fromArray(L, x, xOff + i);
                xv.mul(xv).mul(GELU_C).fma(xv, xv).mul(GELU_M2K).intoArray(y, yOff + i);
            }
            VectorExp.expVectors(y, yOff + c0, c1 - c0);
            for (int i = c0; i < c1; i += LW) {
                FloatVector.fromArray(L, x, xOff + i).div(FloatVector.fromArray(L, y, yOff + i).add(1f))
                        .intoArray(y, yOff + i);
            }
        }
        for (int i = bound; i < n; i++) {
            y[yOff + i] = Elementwise.gelu(x[xOff + i]);
        }
    }

    static void geluBackward(float[] dx, int dxOff, boolean accumulate, float[] dy, int dyOff, float[] x, int xOff,
                             int n, float[] t) {
        int bound = L.loopBound(n);
        FloatVector gelu3c = FloatVector.broadcast(L, GELU_3C);
        for (int c0 = 0; c0 < bound; c0 += CHUNK) {
            int c1 = Math.min(bound, c0 + CHUNK);
            for (int i = c0; i < c1; i += LW) {
                FloatVector xv = FloatVector.fromArray(L, x, xOff + i);
                xv.mul(xv).mul(GELU_C).fma(xv, xv).mul(GELU_M2K).intoArray(t, i - c0);
            }
            VectorExp.expVectors(t, 0, c1 - c0);
            for (int i = c0; i < c1; i += LW) {
                FloatVector xv = FloatVector.fromArray(L, x, xOff + i);
                FloatVector x2 = xv.mul(xv);
                FloatVector e = FloatVector.fromArray(L, t, i - c0);
                VectorMask<Float> negligible = e.compare(VectorOperators.GT, 1f / NEGLIGIBLE);
                e = e.min(1f / NEGLIGIBLE);
                FloatVector s = FloatVector.broadcast(L, 1f).div(e.add(1f));
                FloatVector es = e.mul(s);
                FloatVector q = xv.mul(GELU_2K).mul(x2.fma(gelu3c, FloatVector.broadcast(L, 1f))).mul(es);
                FloatVector local = s.fma(q, s).blend(0f, negligible);
                FloatVector from = accumulate ? FloatVector.fromArray(L, dx, dxOff + i) : FloatVector.zero(L);
                FloatVector.fromArray(L, dy, dyOff + i).fma(local, from).intoArray(dx, dxOff + i);
            }
        }
        Elementwise.geluBackwardScalar(dx, dxOff + bound, accumulate, dy, dyOff + bound, x, xOff + bound,
                n - bound);
    }

    static double expSum(float[] x, int xOff, int n, float shift, float[] t) {
        int bound = L.loopBound(n);
        double sum = 0;
        for (int c0 = 0; c0 < bound; c0 += CHUNK) {
            int len = Math.min(bound, c0 + CHUNK) - c0;
            // exp's argument staged in t, in this loop rather than a helper: in a two-line helper shared with
            // softmaxAdd, C2 left these vector calls out of line and ran their boxing fallback
            for (int j = 0; j < len; j += LW) {
                FloatVector.fromArray(L, x, xOff + c0 + j).sub(shift).intoArray(t, j);
            }
            VectorExp.expVectors(t, 0, len);
            for (int j = 0; j < len; j++) {
                sum += t[j];
            }
        }
        for (int j = bound; j < n; j++) {
            sum += exp(x[xOff + j] - shift);
        }
        return sum;
    }

    static void softmaxAdd(float[] g, int gOff, float[] x, int xOff, int n, float shift, float sum, float[] t) {
        int bound = L.loopBound(n);
        FloatVector vsum = FloatVector.broadcast(L, sum);
        for (int c0 = 0; c0 < bound; c0 += CHUNK) {
            int len = Math.min(bound, c0 + CHUNK) - c0;
            for (int j = 0; j < len; j += LW) {
                FloatVector.fromArray(L, x, xOff + c0 + j).sub(shift).intoArray(t, j);
            }
            VectorExp.expVectors(t, 0, len);
            for (int j = 0; j < len; j += LW) {
                FloatVector p = FloatVector.fromArray(L, t, j).div(vsum);
                FloatVector.fromArray(L, g, gOff + c0 + j).add(p.blend(0f, p.lt(NEGLIGIBLE)))
                        .intoArray(g, gOff + c0 + j);
            }
        }
        for (int j = bound; j < n; j++) {
            g[gOff + j] += flushNegligible(exp(x[xOff + j] - shift) / sum);
        }
    }

    static float max(float[] x, int xOff, int n) {
        int bound = L.loopBound(n);
        FloatVector vmax = FloatVector.broadcast(L, Float.NEGATIVE_INFINITY);
        int j = 0;
        for (; j < bound; j += LW) {
            vmax = vmax.max(FloatVector.fromArray(L, x, xOff + j));
        }
        float m = vmax.reduceLanes(VectorOperators.MAX); // a max has the same bits in any order
        for (; j < n; j++) {
            m = Math.max(m, x[xOff + j]);
        }
        return m;
    }
}
