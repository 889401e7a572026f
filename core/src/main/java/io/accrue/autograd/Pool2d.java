package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/** Shape checks shared by the pooling ops: x (N, C, H, W), a square window, no padding. */
final class Pool2d {
    private Pool2d() {
    }

    /** {@code {N, C, Ho, Wo}} with {@code Ho = (H − kernel)/stride + 1}; throws naming the input when it does not fit. */
    static int[] outputShape(String op, Tensor x, int kernel, int stride) {
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
        return new int[] {x.dim(0), x.dim(1), (x.dim(2) - kernel) / stride + 1, (x.dim(3) - kernel) / stride + 1};
    }

    /** Grain for splitting N·C planes of {@code work} floats each among threads. */
    static int grain(int work) {
        return Math.max(1, (1 << 14) / Math.max(1, work));
    }
}
