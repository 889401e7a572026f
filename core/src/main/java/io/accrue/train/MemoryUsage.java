package io.accrue.train;

import io.accrue.optim.Optimizer;
import io.accrue.tensor.ParameterStore;

import java.util.List;

/**
 * Bytes held by training state, as allocated: the flat weight buffer, the flat gradient buffer (tied-use slots
 * included), each optimizer state buffer, and the activation arena's high-water mark. A memory planner's
 * prediction is compared with this.
 *
 * @param weightsBytes        4 × {@link ParameterStore#values()}.length, plus the packed weights (W and Wᵀ)
 *                            held for a window of small micro-batches ({@link io.accrue.tensor.gemm.Gemm#heldWeightFloats()})
 * @param gradsBytes          4 × {@link ParameterStore#grads()}.length
 * @param optimizerStateBytes 4 × the length of each {@link Optimizer#state()} buffer, in its order (AdamW: m, v)
 * @param arenaHighWaterBytes 4 × the most floats the activation arena held at once
 */
public record MemoryUsage(long weightsBytes, long gradsBytes, List<Long> optimizerStateBytes,
                          long arenaHighWaterBytes) {
    /** Bytes per element of every buffer (fp32). */
    public static final int FLOAT_BYTES = Float.BYTES;

    public MemoryUsage {
        optimizerStateBytes = List.copyOf(optimizerStateBytes);
        if (weightsBytes < 0 || gradsBytes < 0 || arenaHighWaterBytes < 0
                || optimizerStateBytes.stream().anyMatch(b -> b < 0)) {
            throw new IllegalArgumentException("memory usage must be non-negative, got weights=" + weightsBytes
                    + " grads=" + gradsBytes + " optimizer=" + optimizerStateBytes + " arena=" + arenaHighWaterBytes);
        }
    }

    /**
     * The usage of {@code store}'s buffers (and {@code heldWeightFloats} of packed weights), {@code optimizer}'s
     * state and an arena high-water mark in floats.
     */
    public static MemoryUsage of(ParameterStore store, long heldWeightFloats, Optimizer optimizer,
                                 long arenaHighWaterFloats) {
        List<Long> state = optimizer.state().stream().map(s -> (long) s.length * FLOAT_BYTES).toList();
        return new MemoryUsage((store.values().length + heldWeightFloats) * FLOAT_BYTES,
                (long) store.grads().length * FLOAT_BYTES, state, arenaHighWaterFloats * FLOAT_BYTES);
    }

    /** All optimizer state buffers together. */
    public long optimizerBytes() {
        return optimizerStateBytes.stream().mapToLong(Long::longValue).sum();
    }

    /** Weights + gradients + optimizer state + activation arena high-water. */
    public long totalBytes() {
        return weightsBytes + gradsBytes + optimizerBytes() + arenaHighWaterBytes;
    }
}
