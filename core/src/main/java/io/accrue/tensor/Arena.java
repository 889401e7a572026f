package io.accrue.tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Bump allocator for one micro-batch's activations and activation gradients (law 4).
 *
 * <p>Forward and backward allocate from it; nothing is freed individually; {@link #reset()} after the
 * micro-batch's backward makes all of it reusable. Storage comes in chunks: the first micro-batch grows the
 * arena to its size, later micro-batches of the same shape reuse the chunks and allocate nothing. Every view
 * lies inside one chunk, so it is contiguous. {@link #highWaterFloats()} is the most floats ever in use at once.
 *
 * <p>A {@link #counting} arena keeps the same books (chunks, marks, the high-water mark) without the storage: it
 * hands out {@link Tensor#unbacked unbacked} views, so a dry run learns the high-water mark of a real arena of the
 * same first chunk while allocating nothing.
 */
public final class Arena {
    private static final int MIN_CHUNK = 1 << 20;
    /** The largest chunk: one float array. */
    public static final int MAX_CHUNK = Integer.MAX_VALUE - 8;

    /** Each chunk's storage; empty when counting. */
    private final List<float[]> chunks = new ArrayList<>();
    /** Each chunk's length in floats. */
    private final List<Integer> lengths = new ArrayList<>();
    private final boolean counting;
    private int chunk;
    private int top;
    private long usedBefore;
    private long highWater;

    /** An arena whose first chunk holds {@code initialFloats} (a planner's prediction, or 0). */
    public Arena(long initialFloats) {
        this(initialFloats, false);
    }

    public Arena() {
        this(0);
    }

    private Arena(long initialFloats, boolean counting) {
        if (initialFloats < 0 || initialFloats > MAX_CHUNK) {
            throw new IllegalArgumentException("arena size " + initialFloats + " floats is outside [0, 2^31-9]");
        }
        this.counting = counting;
        if (initialFloats > 0) {
            addChunk((int) initialFloats);
        }
    }

    /**
     * An arena that only counts: the allocations, marks and releases of {@code new Arena(initialFloats)} and its
     * high-water mark, with unbacked views and no storage.
     */
    public static Arena counting(long initialFloats) {
        return new Arena(initialFloats, true);
    }

    /** Whether this arena only counts ({@link #counting}): its views have no storage. */
    public boolean isCounting() {
        return counting;
    }

    private void addChunk(int floats) {
        lengths.add(floats);
        if (!counting) {
            chunks.add(new float[floats]);
        }
    }

    /** An uninitialised tensor: the caller writes every element before reading it. */
    public Tensor allocate(int... shape) {
        int n = Tensor.sizeOf(shape);
        while (chunk < lengths.size() && lengths.get(chunk) - top < n) {
            usedBefore += top;
            chunk++;
            top = 0;
        }
        if (chunk == lengths.size()) {
            addChunk(Math.max(n, MIN_CHUNK));
        }
        Tensor t = counting ? Tensor.unbacked(top, shape) : new Tensor(chunks.get(chunk), top, shape);
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

    /** Floats reserved from the heap by all chunks (that a counting arena would reserve). */
    public long capacityFloats() {
        long c = 0;
        for (int f : lengths) {
            c += f;
        }
        return c;
    }

    @Override
    public String toString() {
        return (counting ? "Arena[counting, used=" : "Arena[used=") + usedFloats() + ", highWater=" + highWater
                + ", chunks=" + lengths + "]";
    }
}
