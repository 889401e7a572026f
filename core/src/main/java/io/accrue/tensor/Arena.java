package io.accrue.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Bump allocator for one micro-batch's activations and activation gradients (law 4).
 *
 * <p>Forward and backward allocate from it; nothing is freed individually; {@link #reset()} after the
 * micro-batch's backward makes all of it reusable. Storage comes in chunks: the first micro-batch grows the
 * arena to its size, later micro-batches of the same shape reuse the chunks and allocate nothing. Every view
 * lies inside one chunk, so it is contiguous. {@link #highWaterFloats()} is the most floats ever in use at once.
 */
public final class Arena {
    private static final int MIN_CHUNK = 1 << 20;

    private final List<float[]> chunks = new ArrayList<>();
    private int chunk;
    private int top;
    private long usedBefore;
    private long highWater;

    /** An arena whose first chunk holds {@code initialFloats} (a planner's prediction, or 0). */
    public Arena(long initialFloats) {
        if (initialFloats < 0 || initialFloats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("arena size " + initialFloats + " floats is outside [0, 2^31-9]");
        }
        if (initialFloats > 0) {
            chunks.add(new float[(int) initialFloats]);
        }
    }

    public Arena() {
        this(0);
    }

    /** An uninitialised tensor: the caller writes every element before reading it. */
    public Tensor allocate(int... shape) {
        int n = Tensor.sizeOf(shape);
        while (chunk < chunks.size() && chunks.get(chunk).length - top < n) {
            usedBefore += top;
            chunk++;
            top = 0;
        }
        if (chunk == chunks.size()) {
            chunks.add(new float[Math.max(n, MIN_CHUNK)]);
        }
        Tensor t = new Tensor(chunks.get(chunk), top, shape);
        top += n;
        highWater = Math.max(highWater, usedBefore + top);
        return t;
    }

    /** A position in the arena to {@link #release} back to. */
    public record Mark(int chunk, int top, long usedBefore) {
    }

    /** The current position: everything allocated after it can be released at once. */
    public Mark mark() {
        return new Mark(chunk, top, usedBefore);
    }

    /**
     * Makes the storage allocated since {@code mark} reusable (activation checkpointing recomputes a block
     * inside such a region); views allocated after the mark are invalid afterwards.
     */
    public void release(Mark mark) {
        chunk = mark.chunk();
        top = mark.top();
        usedBefore = mark.usedBefore();
    }

    /** Makes all storage reusable; views handed out before are invalid afterwards. */
    public void reset() {
        chunk = 0;
        top = 0;
        usedBefore = 0;
    }

    /** Floats in use since the last reset (including the unused tails of skipped chunks). */
    public long usedFloats() {
        return usedBefore + top;
    }

    /** The most floats in use at once since construction. */
    public long highWaterFloats() {
        return highWater;
    }

    /** Floats reserved from the heap by all chunks. */
    public long capacityFloats() {
        long c = 0;
        for (float[] f : chunks) {
            c += f.length;
        }
        return c;
    }

    @Override
    public String toString() {
        return "Arena[used=" + usedFloats() + ", highWater=" + highWater + ", chunks="
                + Arrays.toString(chunks.stream().mapToInt(f -> f.length).toArray()) + "]";
    }
}
