package io.accrue.nn;

import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

/** Shared part of the normalization layers: a per-channel gain {@code weight} (ones) and shift {@code bias} (zeros). */
abstract class AffineNorm implements Normalization {
    static final float EPS = 1e-5f;

    private final ParameterStore store;
    private final String name;

    AffineNorm(ParameterStore store, String name, int channels, boolean withBias) {
        this.store = store;
        this.name = name;
        store.declare(Module.join(name, "weight"), new int[] {channels}, false, Init.constant(1f));
        if (withBias) {
            store.declare(Module.join(name, "bias"), new int[] {channels}, false, Init.constant(0f));
        }
    }

    Tensor gain() {
        return store.tensor(Module.join(name, "weight"));
    }

    Tensor shift() {
        return store.tensor(Module.join(name, "bias"));
    }

    @Override
    public ParameterStore store() {
        return store;
    }

    @Override
    public String name() {
        return name;
    }
}
