package io.accrue.optim;

import io.accrue.tensor.ParameterStore;

import java.util.SplittableRandom;

/** Small parameter stores for the optimizer tests. */
final class Stores {

    private Stores() {
    }

    /** "w" = {0.5, -1.0} with weight decay, then "b" = {0.25} without: 3 elements. */
    static ParameterStore three() {
        ParameterStore s = new ParameterStore();
        s.declare("w", new int[] {2}, true, (a, o, n) -> {
            a[o] = 0.5f;
            a[o + 1] = -1.0f;
        });
        s.declare("b", new int[] {1}, false, (a, o, n) -> a[o] = 0.25f);
        return s.allocate();
    }

    /** 10,001-or-more random elements in several parameters of alternating weight-decay flag. */
    static ParameterStore random(long seed, int... sizes) {
        ParameterStore s = new ParameterStore();
        SplittableRandom r = new SplittableRandom(seed);
        for (int p = 0; p < sizes.length; p++) {
            s.declare("p" + p, new int[] {sizes[p]}, p % 2 == 0, (a, o, n) -> {
                for (int i = 0; i < n; i++) {
                    a[o + i] = (float) r.nextGaussian();
                }
            });
        }
        return s.allocate();
    }

    static void randomGrads(ParameterStore s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] g = s.grads();
        for (int i = 0; i < s.size(); i++) {
            g[i] = (float) (r.nextGaussian() * 0.1);
        }
    }

    static void setGrads(ParameterStore s, double... g) {
        for (int i = 0; i < g.length; i++) {
            s.grads()[i] = (float) g[i];
        }
    }
}
