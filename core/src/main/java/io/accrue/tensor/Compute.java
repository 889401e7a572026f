package io.accrue.tensor;

/**
 * The compute resources of one trainer: a thread team and the kernels bound to it. Created once, passed
 * explicitly, closed at the end.
 */
public final class Compute implements AutoCloseable {
    private final Parallel parallel;
    private final Gemm gemm;

    public Compute(int threads) {
        this.parallel = new Parallel(threads);
        this.gemm = new Gemm(parallel);
    }

    private Compute(Parallel parallel, Gemm gemm) {
        this.parallel = parallel;
        this.gemm = gemm;
    }

    /**
     * The resources of one of several micro-batches run at once: the calling thread alone, with weights held in
     * the same packed panels as this instance's.
     */
    public Compute lane() {
        Parallel single = new Parallel(1);
        return new Compute(single, new Gemm(single, gemm));
    }

    public Parallel parallel() {
        return parallel;
    }

    public Gemm gemm() {
        return gemm;
    }

    public int threads() {
        return parallel.threads();
    }

    @Override
    public void close() {
        parallel.close();
    }
}
