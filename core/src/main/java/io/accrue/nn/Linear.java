package io.accrue.nn;

import io.accrue.autograd.LinearOp;
import io.accrue.autograd.Tape;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

import io.accrue.tensor.ParameterStore.Initializer;

/** Fully connected layer {@code y = x·Wᵀ + b} with weight (out, in) named {@code name.weight}, bias {@code name.bias}. */
public final class Linear implements Module {
    private final ParameterStore store;
    private final String name;
    private final boolean bias;
    // the parameters' names, joined once: forward runs every micro-batch and should allocate nothing
    private final String weightName;
    private final String biasName;

    /** Declares weight and (optionally) bias; the weight gets {@code init}, the bias zeros. */
    public Linear(ParameterStore store, String name, int in, int out, boolean bias, Initializer init) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("linear '" + name + "' needs positive sizes, got in=" + in
                    + " out=" + out);
        }
        this.store = store;
        this.name = name;
        this.bias = bias;
        this.weightName = Module.join(name, "weight");
        this.biasName = Module.join(name, "bias");
        store.declare(weightName, new int[] {out, in}, true, init);
        if (bias) {
            store.declare(biasName, new int[] {out}, false, Init.constant(0f));
        }
    }

    /** PyTorch's default: uniform(±1/√in) for the weight. */
    public Linear(ParameterStore store, String name, int in, int out, long seed) {
        this(store, name, in, out, true, Init.uniform(seed, Module.join(name, "weight"), 1 / Math.sqrt(in)));
    }

    public Tensor forward(Tape tape, Tensor x) {
        return LinearOp.forward(tape, x, weight(), bias ? store.tensor(biasName) : null);
    }

    public Tensor weight() {
        return store.tensor(weightName);
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
