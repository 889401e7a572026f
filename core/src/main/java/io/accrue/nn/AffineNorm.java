package io.accrue.nn;

import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

/** Shared part of the normalization layers: a per-channel gain {@code weight} (ones) and shift {@code bias} (zeros). */
abstract class AffineNorm implements Normalization {
    static final float EPS = 1e-5f;

    private final ParameterStore store;
    private final String name;
    // the parameters' names, joined once: forward runs every micro-batch and should allocate nothing
    private final String weightName;
    private final String biasName;

    AffineNorm(ParameterStore store, String name, int channels, boolean withBias) {
        this.store = store;
        this.name = name;
        this.weightName = Module.join(name, "weight");
        this.biasName = Module.join(name, "bias");
        store.declare(weightName, new int[] {channels}, false, Init.constant(1f));
        if (withBias) {
            store.declare(biasName, new int[] {channels}, false, Init.constant(0f));
        }
    }

    Tensor gain() {
        return store.tensor(weightName);
    }

    Tensor shift() {
        return store.tensor(biasName);
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
