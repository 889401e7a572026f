package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.gemm.Gemm;
import io.accrue.tensor.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * A tape's planning mode: one micro-batch's forward and backward run by the model's own code, allocating as
 * training would and computing nothing (law 4's prediction, made by the code that will run).
 *
 * <p>A {@link Tape#Tape(io.accrue.tensor.Compute, DryRun) planning tape} allocates from a {@link Arena#counting
 * counting arena}, so its outputs, scratch and gradients are unbacked views while the arena keeps a real arena's
 * books: its high-water mark, gradient recycling and activation checkpointing's released regions included. Every
 * op allocates what it allocates in training and records its backward step; then, at one early return each in
 * forward and backward ({@code if (tape.planning()) return ...}), it skips its arithmetic. The products by a
 * weight ({@link LinearOp}) tell the dry run which packed weights {@link Gemm#multiplyByWeight} would hold for a
 * window, keyed like Gemm's own panels (the weight's storage and offset, its form and shape), so a weight used
 * twice in the same form is counted once.
 */
public final class DryRun {
    /** A held panel: the weight it is packed from and its form, as {@code VectorGemm} keys its panels. */
    private record Held(float[] data, int offset, int ld, boolean transB, int k, int n) {
    }

    private final Arena arena;
    private final Map<Held, Long> held = new HashMap<>();

    /** A dry run whose arena counts like one whose first chunk holds {@code initialFloats}. */
    public DryRun(long initialFloats) {
        this.arena = Arena.counting(initialFloats);
    }

    /** A dry run whose arena counts like one allocated whole, in a single chunk of the largest size. */
    public DryRun() {
        this(Arena.MAX_CHUNK);
    }

    /** The counting arena: its {@link Arena#highWaterFloats()} is the micro-batch's. */
    public Arena arena() {
        return arena;
    }

    /**
     * Notes a product of m rows by op(W) (k×n; {@code transB}: W is stored (n, k)) through
     * {@link Gemm#multiplyByWeight}, which holds op(W) packed while weights are held when
     * {@link Gemm#heldWeightFloats(int, int, int, boolean)} says so.
     */
    void weightProduct(Tensor w, int m, int k, int n, boolean transB) {
        long floats = Gemm.heldWeightFloats(m, k, n, transB);
        if (floats > 0) {
            held.put(new Held(w.data(), w.offset(), w.cols(), transB, k, n), floats);
        }
    }

    /** Floats of the packed weights held for a window of K &gt; 1 micro-batches like this one. */
    public long heldWeightFloats() {
        long f = 0;
        for (long h : held.values()) {
            f += h;
        }
        return f;
    }
}
