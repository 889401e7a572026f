package io.accrue.tensor.conv;

import io.accrue.tensor.Lanes;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API bodies of {@link ConvKernels}' 2×2, stride-2 max pooling; loaded only when
 * {@code jdk.incubator.vector} is present. A window's first maximum is found by the oracle's comparisons in the
 * oracle's order, each a lanewise "greater than, then take it" (so NaN, ties and signed zeros go as in the oracle),
 * for L/2 windows at once: lane 2k of a vector loaded at a row's column c holds window k's left element, and lane 2k
 * of the one loaded at c + 1 its right element; the odd lanes compute windows that do not exist and are dropped.
 * This replaces four unpredictable branches per window, which cost more than the rest of the pass.
 */
final class VectorPool {
    private static final VectorSpecies<Float> S = Lanes.WIDE;
    private static final VectorSpecies<Integer> I = S.withLanes(int.class);
    private static final int L = S.length();
    /** Lane k ← lane 2k: the even lanes (the windows) to the front. */
    private static final VectorShuffle<Float> EVENS = VectorShuffle.fromOp(S, k -> 2 * k % L);
    private static final VectorShuffle<Integer> EVENS_I = VectorShuffle.fromOp(I, k -> 2 * k % L);
    private static final IntVector IOTA = IntVector.zero(I).addIndex(1);

    private VectorPool() {
    }

    /** {@link ConvKernels#maxPool} for kernel 2, stride 2, planes {@code [from, to)}. */
    static void maxPool(float[] y, int yOff, float[] x, int xOff, int from, int to, int h, int w, int ho, int wo) {
        for (int pl = from; pl < to; pl++) {
            for (int i = 0; i < ho; i++) {
                int top = xOff + pl * h * w + 2 * i * w;
                int out = yOff + (pl * ho + i) * wo;
                for (int c = 0; c < 2 * wo; c += L) {
                    int cols = Math.min(L, 2 * wo - c);
                    FloatVector m = window(x, top + c, w, cols, null, 0).max;
                    m.rearrange(EVENS).intoArray(y, out + c / 2, S.indexInRange(0, cols / 2));
                }
            }
        }
    }

    /** {@link ConvKernels#maxPoolBackward} for kernel 2, stride 2, planes {@code [from, to)}. */
    static void maxPoolBackward(float[] dx, int dxOff, boolean fresh, float[] x, int xOff, float[] dy, int dyOff,
                                int from, int to, int h, int w, int ho, int wo) {
        int[] winners = new int[L]; // one per call (a thread's range of planes), not per plane
        for (int pl = from; pl < to; pl++) {
            if (fresh) {
                java.util.Arrays.fill(dx, dxOff + pl * h * w, dxOff + (pl + 1) * h * w, 0f);
            }
            for (int i = 0; i < ho; i++) {
                int top = xOff + pl * h * w + 2 * i * w;
                int g = dyOff + (pl * ho + i) * wo;
                for (int c = 0; c < 2 * wo; c += L) {
                    int cols = Math.min(L, 2 * wo - c);
                    window(x, top + c, w, cols, winners, top + c).winner.rearrange(EVENS_I).intoArray(winners, 0);
                    for (int k = 0; k < cols / 2; k++) {
                        dx[winners[k] - xOff + dxOff] += dy[g + c / 2 + k];
                    }
                }
            }
        }
    }

    private record Window(FloatVector max, IntVector winner) {
    }

    /**
     * The first maxima of the windows whose left columns are the even lanes of {@code cols} columns at {@code at}
     * (two rows, {@code w} apart), and with {@code winners} non-null their indices in x.
     */
    private static Window window(float[] x, int at, int w, int cols, int[] winners, int base) {
        FloatVector a = load(x, at, cols);
        FloatVector b = load(x, at + 1, cols - 1); // lane 2k: window k's right element; the last odd lane unread
        FloatVector c = load(x, at + w, cols);
        FloatVector d = load(x, at + w + 1, cols - 1);
        VectorMask<Float> gb = b.compare(VectorOperators.GT, a);
        FloatVector m = a.blend(b, gb);
        VectorMask<Float> gc = c.compare(VectorOperators.GT, m);
        m = m.blend(c, gc);
        VectorMask<Float> gd = d.compare(VectorOperators.GT, m);
        m = m.blend(d, gd);
        if (winners == null) {
            return new Window(m, null);
        }
        IntVector ia = IOTA.add(base);
        IntVector win = ia.blend(ia.add(1), gb.cast(I));
        win = win.blend(ia.add(w), gc.cast(I));
        win = win.blend(ia.add(w + 1), gd.cast(I));
        return new Window(m, win);
    }

    /** {@code n} floats at {@code at}: a plain load when the whole vector lies in the array, else a masked one. */
    private static FloatVector load(float[] x, int at, int n) {
        return at + L <= x.length ? FloatVector.fromArray(S, x, at) : FloatVector.fromArray(S, x, at,
                S.indexInRange(0, n));
    }
}
