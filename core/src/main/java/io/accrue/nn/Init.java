package io.accrue.nn;

import io.accrue.tensor.KeyedRandom;

import java.util.Arrays;
import java.util.function.Consumer;

/** Parameter initialisers, keyed by (seed, parameter name, element index) so they do not depend on order. */
public final class Init {
    private Init() {
    }

    /** Normal(0, std²) values keyed by name and element. */
    public static Consumer<float[]> normal(long seed, String name, double std) {
        long key = name.hashCode();
        return a -> {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (std * KeyedRandom.gaussian(seed, key, 0, i));
            }
        };
    }

    /** Uniform(−bound, bound) values keyed by name and element (PyTorch's default Linear init uses 1/√in). */
    public static Consumer<float[]> uniform(long seed, String name, double bound) {
        long key = name.hashCode();
        return a -> {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (bound * (2 * KeyedRandom.unitDouble(KeyedRandom.hash(seed, key, 1, i)) - 1));
            }
        };
    }

    public static Consumer<float[]> constant(float value) {
        return a -> Arrays.fill(a, value);
    }
}
