package io.accrue.tensor.optimizer;

import io.accrue.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API body of {@link OptimizerKernels}; loaded only when {@code jdk.incubator.vector} is present. Lanes
 * hold independent elements, each updated by the oracle's IEEE-exact operations in its order (√ correctly rounded),
 * so it runs on {@link Lanes#WIDE} and gives the oracle's bits; the tail is the oracle itself.
 */
final class VectorOptimizer {
    private static final VectorSpecies<Float> L = Lanes.WIDE;
    private static final int LW = L.length();

    private VectorOptimizer() {
    }

    static void adamW(float[] w, float[] m, float[] v, float[] g, int from, int to, float decay, float beta1,
                      float c1, float beta2, float c2, float bc2Sqrt, float eps, float stepSize) {
        int bound = from + L.loopBound(to - from);
        int i = from;
        for (; i < bound; i += LW) {
            FloatVector gi = FloatVector.fromArray(L, g, i);
            FloatVector mi = FloatVector.fromArray(L, m, i).mul(beta1).add(gi.mul(c1));
            FloatVector vi = FloatVector.fromArray(L, v, i).mul(beta2).add(gi.mul(gi).mul(c2));
            mi.intoArray(m, i);
            vi.intoArray(v, i);
            FloatVector denom = vi.sqrt().div(bc2Sqrt).add(eps);
            FloatVector.fromArray(L, w, i).mul(decay).sub(mi.div(denom).mul(stepSize)).intoArray(w, i);
        }
        OptimizerKernels.adamWScalar(w, m, v, g, i, to, decay, beta1, c1, beta2, c2, bc2Sqrt, eps, stepSize);
    }
}
