package io.accrue.tensor.gemm;

/**
 * The scalar oracle for {@link Gemm}: {@code C(m×n) += op(A)(m×k) · op(B)(k×n)}, one {@link Math#fma} chain
 * per output, starting from the value in C and running along k in ascending order (law 3).
 *
 * <p>{@code op(A)[i][p]} is {@code a[aOff + i*lda + p]}, or {@code a[aOff + p*lda + i]} when {@code transA}
 * (a transposed {@link Matrix}); likewise for B. Every fast kernel must give exactly these bits.
 */
public final class GemmReference {
    private GemmReference() {
    }

    /** {@code C += A·B} for {@link Matrix} views, as {@link Gemm#multiply} takes them (C not transposed). */
    public static void multiply(Matrix c, Matrix a, Matrix b) {
        if (c.transposed() || a.rows() != c.rows() || b.cols() != c.cols() || a.cols() != b.rows()) {
            throw new IllegalArgumentException("shapes do not multiply: C " + c + " += A " + a + " · B " + b);
        }
        multiply(c.data(), c.offset(), c.ld(), a.data(), a.offset(), a.ld(), a.transposed(), b.data(), b.offset(),
                b.ld(), b.transposed(), c.rows(), c.cols(), a.cols());
    }

    static void multiply(float[] c, int cOff, int ldc,
                                float[] a, int aOff, int lda, boolean transA,
                                float[] b, int bOff, int ldb, boolean transB,
                                int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float acc = c[cOff + i * ldc + j];
                for (int p = 0; p < k; p++) {
                    float x = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    float y = transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    acc = Math.fma(x, y, acc);
                }
                c[cOff + i * ldc + j] = acc;
            }
        }
    }
}
