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
 * Each output is one FMA chain along k from the value already in C (law 3); threads split outputs only.
 * {@link GemmReference} is the oracle.
 */
public final class Gemm {
    private final Parallel parallel;

    public Gemm(Parallel parallel) {
        this.parallel = parallel;
    }

    public Parallel parallel() {
        return parallel;
    }

    public void multiply(float[] c, int cOff, int ldc,
                         float[] a, int aOff, int lda, boolean transA,
                         float[] b, int bOff, int ldb, boolean transB,
                         int m, int n, int k) {
        parallel.forRange(m, 1, (from, to) -> GemmReference.multiply(
                c, cOff + from * ldc, ldc,
                a, transA ? aOff + from : aOff + from * lda, lda, transA,
                b, bOff, ldb, transB, to - from, n, k));
    }
}
