package io.accrue.tensor;

import java.util.Arrays;

/**
 * Small elementwise and row-reduction kernels shared by ops. Outputs first, then inputs (STYLE 5).
 *
 * <p>Column sums over rows ({@link #addRowSums}) are sums over examples: one ordered chain per column that
 * starts from the output's value (law 3); threads split the columns.
 */
public final class Kernels {
    private Kernels() {
    }

    /** Elements per thread part below which filling runs on the caller alone (a wake-up costs more). */
    private static final int FILL_GRAIN = 1 << 15;

    /**
     * Zeroes {@code data[offset, offset + n)}. Memory-bound, but on the caller alone it would leave the other
     * threads idle between two kernels.
     */
    public static void zero(Parallel parallel, float[] data, int offset, int n) {
        parallel.forRange(n, FILL_GRAIN, (from, to) -> Arrays.fill(data, offset + from, offset + to, 0f));
    }

    /** {@code out[j] += Σ_r in[r][j]} for r ascending; in is (rows, cols), out is (cols). */
    public static void addRowSums(Parallel parallel, Tensor out, Tensor in) {
        int cols = in.cols();
        int rows = in.rows();
        if (out.size() != cols) {
            throw new IllegalArgumentException("row sums of " + in + " need an output of " + cols + " elements, got "
                    + out);
        }
        float[] o = out.data();
        float[] x = in.data();
        int oo = out.offset();
        int xo = in.offset();
        parallel.forRange(cols, Math.max(8, FILL_GRAIN / Math.max(1, rows)),
                (from, to) -> Elementwise.addColumnSums(o, oo, x, xo, cols, rows, from, to));
    }
}
