package io.accrue.tensor.elementwise;

import io.accrue.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import static io.accrue.tensor.elementwise.Exp.EXP_HI;
import static io.accrue.tensor.elementwise.Exp.EXP_LO;
import static io.accrue.tensor.elementwise.Exp.LN2_HI;
import static io.accrue.tensor.elementwise.Exp.LN2_LO;
import static io.accrue.tensor.elementwise.Exp.LOG2E;
import static io.accrue.tensor.elementwise.Exp.P0;
import static io.accrue.tensor.elementwise.Exp.P1;
import static io.accrue.tensor.elementwise.Exp.P2;
import static io.accrue.tensor.elementwise.Exp.P3;
import static io.accrue.tensor.elementwise.Exp.P4;
import static io.accrue.tensor.elementwise.Exp.P5;
import static io.accrue.tensor.elementwise.Exp.ROUND;
import static io.accrue.tensor.elementwise.Exp.ROUND_BITS;

/**
 * The Vector API body of {@link Exp}: exp over an array in place, for the kernels that need it here and in the
 * attention family's softmax rows. Loaded only when {@code jdk.incubator.vector} is present; lanes hold independent
 * elements, so it runs on {@link Lanes#WIDE} and gives {@link Exp#exp}'s bits in every lane.
 */
public final class VectorExp {
    private static final VectorSpecies<Float> L = Lanes.WIDE;
    private static final int LW = L.length();

    private VectorExp() {
    }

    /**
     * {@code a[off + j] = exp(a[off + j])} for j in [0, n), n a multiple of {@link Lanes#WIDE}'s length: lanewise
     * {@link Exp#exp}, the same operations in the same order. The kernels that need exp write its argument to an
     * array and call this, rather than pass vectors to a helper: a vector that crosses a call C2 did not inline is
     * boxed on the heap, and whether C2 inlines a 200-byte helper into a large kernel varies from run to run (its
     * node-count and call-frequency cut-offs); boxing runs collect garbage many times a second and train slower.
     */
    public static void expVectors(float[] a, int off, int n) {
        FloatVector log2e = FloatVector.broadcast(L, LOG2E);
        FloatVector round = FloatVector.broadcast(L, ROUND);
        FloatVector ln2Hi = FloatVector.broadcast(L, -LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(L, -LN2_LO);
        FloatVector p0 = FloatVector.broadcast(L, P0);
        FloatVector p1 = FloatVector.broadcast(L, P1);
        FloatVector p2 = FloatVector.broadcast(L, P2);
        FloatVector p3 = FloatVector.broadcast(L, P3);
        FloatVector p4 = FloatVector.broadcast(L, P4);
        FloatVector p5 = FloatVector.broadcast(L, P5);
        for (int j = off; j < off + n; j += LW) {
            FloatVector x = FloatVector.fromArray(L, a, j);
            VectorMask<Float> under = x.lt(EXP_LO);
            FloatVector c = x.max(EXP_LO).min(EXP_HI);
            FloatVector t = c.fma(log2e, round);
            FloatVector m = t.sub(ROUND);
            FloatVector r = m.fma(ln2Hi, c);
            r = m.fma(ln2Lo, r);
            FloatVector q = p0.fma(r, p1);
            q = q.fma(r, p2);
            q = q.fma(r, p3);
            q = q.fma(r, p4);
            q = q.fma(r, p5);
            FloatVector e = q.fma(r.mul(r), r).add(1f);
            FloatVector scale = ((IntVector) t.reinterpretAsInts()).sub(ROUND_BITS - 127)
                    .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            e.mul(scale).blend(0f, under).intoArray(a, j);
        }
    }
}
