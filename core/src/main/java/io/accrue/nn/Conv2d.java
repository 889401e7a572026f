package io.accrue.nn;

import io.accrue.autograd.Conv2dOp;
import io.accrue.autograd.Tape;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

/**
 * 2-D convolution layer with a square kernel: weight (Cout, Cin, k, k) named {@code name.weight}, optional bias
 * (Cout) named {@code name.bias}. The weight is initialised uniform(±1/√(Cin·k·k)) as PyTorch's default, the bias
 * with zeros.
 */
public final class Conv2d implements Module {
    private final ParameterStore store;
    private final String name;
    private final boolean bias;
    // the parameters' names, joined once: forward runs every micro-batch and should allocate nothing
    private final String weightName;
    private final String biasName;
    private final int stride;
    private final int padding;

    public Conv2d(ParameterStore store, String name, int in, int out, int kernel, int stride, int padding,
                  boolean bias, long seed) {
        if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException("conv2d '" + name + "' needs positive in, out, kernel, stride and "
                    + "padding ≥ 0, got in=" + in + " out=" + out + " kernel=" + kernel + " stride=" + stride
                    + " padding=" + padding);
        }
        this.store = store;
        this.name = name;
        this.bias = bias;
        this.stride = stride;
        this.padding = padding;
        this.weightName = Module.join(name, "weight");
        this.biasName = Module.join(name, "bias");
        store.declare(weightName, new int[] {out, in, kernel, kernel}, true,
                Init.uniform(seed, weightName, 1 / Math.sqrt((double) in * kernel * kernel)));
        if (bias) {
            store.declare(biasName, new int[] {out}, false, Init.constant(0f));
        }
    }

    /** x (N, Cin, H, W) → (N, Cout, Ho, Wo). */
    public Tensor forward(Tape tape, Tensor x) {
        return Conv2dOp.forward(tape, x, weight(), bias ? store.tensor(biasName) : null, stride, padding);
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
