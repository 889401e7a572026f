package io.accrue.nn;

import io.accrue.tensor.KeyedRandom;
import io.accrue.tensor.ParameterStore.Initializer;

import java.util.Arrays;

/**
 * Parameter initialisers, keyed by (seed, parameter name, element index) so they do not depend on order; each
 * writes straight into the parameter buffer.
 */
public final class Init {
    private Init() {
    }

    /** Normal(0, std²) values keyed by name and element. */
    public static Initializer normal(long seed, String name, double std) {
        long key = name.hashCode();
        return (a, offset, n) -> {
            for (int i = 0; i < n; i++) {
                a[offset + i] = (float) (std * KeyedRandom.gaussian(seed, key, 0, i));
            }
        };
    }

    /** Uniform(−bound, bound) values keyed by name and element (PyTorch's default Linear init uses 1/√in). */
    public static Initializer uniform(long seed, String name, double bound) {
        long key = name.hashCode();
        return (a, offset, n) -> {
            for (int i = 0; i < n; i++) {
                a[offset + i] = (float) (bound * (2 * KeyedRandom.unitDouble(KeyedRandom.hash(seed, key, 1, i)) - 1));
            }
        };
    }

    public static Initializer constant(float value) {
        return (a, offset, n) -> Arrays.fill(a, offset, offset + n, value);
    }
}
