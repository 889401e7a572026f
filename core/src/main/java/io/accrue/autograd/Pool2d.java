package io.accrue.autograd;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.Tensor;

/**
 * Geometry shared by the pooling ops: x (N, C, H, W) → y (N, C, Ho, Wo), square {@code kernel}×{@code kernel}
 * windows {@code stride} apart, no padding. Threads split the N·C planes.
 */
record Pool2d(int n, int c, int h, int w, int ho, int wo, int kernel, int stride) {

    /** The geometry of pooling x; throws naming the input when the window does not fit. */
    static Pool2d of(String op, Tensor x, int kernel, int stride) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException(op + ": input " + x + " must be (N, C, H, W)");
        }
        if (kernel <= 0 || stride <= 0) {
            throw new IllegalArgumentException(op + ": kernel and stride must be ≥ 1, got kernel=" + kernel
                    + " stride=" + stride + " for input " + x);
        }
        if (kernel > x.dim(2) || kernel > x.dim(3)) {
            throw new IllegalArgumentException(op + ": kernel " + kernel + "×" + kernel + " does not fit input " + x);
        }
        return new Pool2d(x.dim(0), x.dim(1), x.dim(2), x.dim(3), (x.dim(2) - kernel) / stride + 1,
                (x.dim(3) - kernel) / stride + 1, kernel, stride);
    }

    /** {@code {N, C, Ho, Wo}}. */
    int[] outputShape() {
        return new int[] {n, c, ho, wo};
    }

    /** Floats in one input plane: H·W. */
    int inPlane() {
        return h * w;
    }

    /** Floats in one output plane: Ho·Wo. */
    int outPlane() {
        return ho * wo;
    }

    /** Where the window of output (i, j) starts, relative to its input plane. */
    int origin(int i, int j) {
        return i * stride * w + j * stride;
    }

    /** Runs {@code body} over ranges of the N·C planes on the tape's threads. */
    void forPlanes(Tape tape, Parallel.Range body) {
        // Grain: enough input floats per part that it is worth waking a thread for.
        tape.compute().parallel().forRange(n * c, Math.max(1, (1 << 14) / Math.max(1, h * w)), body);
    }
}
