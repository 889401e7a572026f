package io.accrue.tensor;

/**
 * General matrix multiply-accumulate {@code C(m×n) += op(A)(m×k) · op(B)(k×n)} on a {@link Parallel} team.
 *
 * <p>The three forms training needs, with W of shape (out, in):
 * <ul>
 *   <li>forward {@code Y += X·Wᵀ} (Y pre-filled with the bias): {@code transA=false, transB=true};</li>
 *   <li>input gradient {@code dX += dY·W}: {@code transA=false, transB=false};</li>
 *   <li>weight gradient {@code dW += dYᵀ·X}: {@code transA=true, transB=false} — a sum over rows (examples),
 *       which therefore continues across calls exactly: cutting the rows into micro-batches changes no bit.</li>
 * </ul>
 * Each output is one FMA chain along k from the value already in C (law 3); threads split outputs only (blocks of
 * rows or of columns of C), so the result has the same bits for every thread count. {@link GemmReference} is the
 * oracle, and the fast path gives exactly its bits.
 *
 * <p>The fast path is {@link VectorGemm} ({@code jdk.incubator.vector}, enabled with
 * {@code --add-modules jdk.incubator.vector}); without the module, Gemm warns once on stderr and runs the scalar
 * oracle. An instance owns packing buffers, one set per thread part, grown on demand and reused: it serves one
 * caller at a time.
 */
public final class Gemm {
    /** Whether {@code jdk.incubator.vector} can be loaded in this run; decided once. */
    static final boolean VECTOR_AVAILABLE = vectorAvailable();

    /** Below this many multiply-adds a call runs on the calling thread alone (waking the team costs more). */
    private static final long PARALLEL_MIN_WORK = 1L << 18;

    private final Parallel parallel;
    private final VectorGemm vector; // null: scalar kernels

    public Gemm(Parallel parallel) {
        this(parallel, true);
    }

    /** {@code useVector=false} forces the scalar kernels (tests compare both). */
    Gemm(Parallel parallel, boolean useVector) {
        this.parallel = parallel;
        this.vector = useVector && VECTOR_AVAILABLE ? new VectorGemm(parallel.threads()) : null;
    }

    public Parallel parallel() {
        return parallel;
    }

    /** Whether this instance runs the Vector API kernel (false: the scalar fallback). */
    public boolean vectorized() {
        return vector != null;
    }

    /**
     * {@code C += op(A)·op(B)} where {@code op(A)[i][p]} is {@code a[aOff + i*lda + p]}, or
     * {@code a[aOff + p*lda + i]} when {@code transA}; likewise B with (p, j); C[i][j] is
     * {@code c[cOff + i*ldc + j]}. Sizes: op(A) is m×k, op(B) k×n, C m×n.
     */
    public void multiply(float[] c, int cOff, int ldc,
                         float[] a, int aOff, int lda, boolean transA,
                         float[] b, int bOff, int ldb, boolean transB,
                         int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative size m=" + m + ", n=" + n + ", k=" + k);
        }
        if (ldc < n || lda < (transA ? m : k) || ldb < (transB ? k : n)) {
            throw new IllegalArgumentException("leading dimension too small: ldc=" + ldc + ", lda=" + lda + ", ldb="
                    + ldb + " for m=" + m + ", n=" + n + ", k=" + k + ", transA=" + transA + ", transB=" + transB);
        }
        if (m == 0 || n == 0 || k == 0) {
            return;
        }
        int rowTiles = (m + VectorGemm.MR - 1) / VectorGemm.MR;
        int colTiles = (n + VectorGemm.NR - 1) / VectorGemm.NR;
        int threads = (long) m * n * k < PARALLEL_MIN_WORK ? 1 : parallel.threads();
        boolean byRows = splitRows(rowTiles, colTiles, threads);
        int tiles = byRows ? rowTiles : colTiles;
        int parts = Math.min(threads, tiles);
        if (parts == 1) {
            block(0, c, cOff, ldc, a, aOff, lda, transA, b, bOff, ldb, transB, 0, m, 0, n, k);
            return;
        }
        parallel.forRange(parts, 1, (from, to) -> {
            for (int part = from; part < to; part++) {
                int t0 = (int) ((long) tiles * part / parts);
                int t1 = (int) ((long) tiles * (part + 1) / parts);
                if (byRows) {
                    block(part, c, cOff, ldc, a, aOff, lda, transA, b, bOff, ldb, transB,
                            t0 * VectorGemm.MR, Math.min(m, t1 * VectorGemm.MR), 0, n, k);
                } else {
                    block(part, c, cOff, ldc, a, aOff, lda, transA, b, bOff, ldb, transB,
                            0, m, t0 * VectorGemm.NR, Math.min(n, t1 * VectorGemm.NR), k);
                }
            }
        });
    }

    /**
     * Splits by rows unless cutting the column tiles among the threads balances better (fewer tiles in the
     * busiest part); ties go to rows.
     */
    static boolean splitRows(int rowTiles, int colTiles, int threads) {
        if (threads == 1) {
            return true;
        }
        double rowSpeedup = (double) rowTiles / ceilDiv(rowTiles, Math.min(threads, rowTiles));
        double colSpeedup = (double) colTiles / ceilDiv(colTiles, Math.min(threads, colTiles));
        return rowSpeedup >= colSpeedup;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private void block(int part,
                       float[] c, int cOff, int ldc,
                       float[] a, int aOff, int lda, boolean transA,
                       float[] b, int bOff, int ldb, boolean transB,
                       int i0, int i1, int j0, int j1, int k) {
        if (vector != null) {
            vector.multiply(part, c, cOff, ldc, a, aOff, lda, transA, b, bOff, ldb, transB, i0, i1, j0, j1, k);
        } else {
            GemmReference.multiply(c, cOff + i0 * ldc + j0, ldc,
                    a, transA ? aOff + i0 : aOff + i0 * lda, lda, transA,
                    b, transB ? bOff + j0 * ldb : bOff + j0, ldb, transB, i1 - i0, j1 - j0, k);
        }
    }

    private static boolean vectorAvailable() {
        try {
            Class.forName("jdk.incubator.vector.FloatVector", false, Gemm.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            System.err.println("accrue: jdk.incubator.vector not enabled (--add-modules jdk.incubator.vector); "
                    + "using scalar kernels, ~20x slower");
            return false;
        }
    }
}
