package io.accrue.tensor;

import io.accrue.tensor.attention.AttentionKernels;
import io.accrue.tensor.elementwise.Elementwise;
import io.accrue.tensor.gemm.Gemm;

/**
 * The compute resources of one trainer: a thread team and the kernel instances bound to it, which own the kernels'
 * scratch per thread part (GEMM packing buffers, exp staging, gather index maps), allocated once and reused. Created
 * once, passed explicitly, closed at the end. Like its team, it serves one caller at a time: micro-batches run at
 * once each take a {@link #lane()}.
 */
public final class Compute implements AutoCloseable {
    private final Parallel parallel;
    private final Gemm gemm;
    private final Elementwise elementwise;
    private final AttentionKernels attention;

    public Compute(int threads) {
        this(new Parallel(threads), null);
    }

    /** Resources on {@code parallel}; with {@code heldWith}, a GEMM holding weights in that one's panels. */
    private Compute(Parallel parallel, Gemm heldWith) {
        this.parallel = parallel;
        this.gemm = heldWith != null ? heldWith.lane(parallel) : new Gemm(parallel);
        this.elementwise = new Elementwise(parallel.threads());
        this.attention = new AttentionKernels(parallel.threads());
    }

    /**
     * The resources of one of several micro-batches run at once: the calling thread alone, its own scratch, with
     * weights held in the same packed panels as this instance's.
     */
    public Compute lane() {
        return new Compute(new Parallel(1), gemm);
    }

    public Parallel parallel() {
        return parallel;
    }

    /** The GEMM family's kernel on this team. */
    public Gemm gemm() {
        return gemm;
    }

    /** The elementwise family's kernels with per-part scratch on this team ({@link Elementwise#expSum} etc.). */
    public Elementwise elementwise() {
        return elementwise;
    }

    /** The attention family's kernels with per-part scratch on this team ({@link AttentionKernels#transpose}). */
    public AttentionKernels attention() {
        return attention;
    }

    public int threads() {
        return parallel.threads();
    }

    @Override
    public void close() {
        parallel.close();
    }
}
