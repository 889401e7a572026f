package io.accrue.tensor;

/**
 * A named parameter: a value view into the parameter buffer and a gradient view at the same offset of the
 * gradient buffer.
 *
 * @param name        Hugging Face style name, e.g. {@code h.0.attn.c_attn.weight}
 * @param value       view into {@link ParameterStore#values()}
 * @param offset      start of this parameter in every flat buffer of the store
 * @param weightDecay whether decoupled weight decay applies (matrices yes; biases and norm gains no)
 * @param storedTransposed whether files (checkpoints, exports) hold this 2-D parameter transposed, as the model
 *                    declared ({@link ParameterStore#storeTransposed}): e.g. Hugging Face GPT-2's {@code Conv1D}
 *                    weights are (in, out) where ours are (out, in)
 */
public record Parameter(String name, Tensor value, int offset, boolean weightDecay, boolean storedTransposed) {

    /** The gradient view (same shape, same offset in the gradient buffer). */
    public Tensor grad() {
        return value.grad();
    }

    public int size() {
        return value.size();
    }
}
