package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.conv.ConvKernels;

/**
 * Max pooling over square windows, no padding: {@code y[n,c,i,j] = max_{u,v<k} x[n,c,i·s+u,j·s+v]}; x (N, C, H, W),
 * y (N, C, Ho, Wo) with {@code Ho = (H − k)/s + 1}.
 *
 * <p>The winner of a window is the first maximum in (u, v) order. Backward finds it again from x (nothing is
 * saved) and adds {@code dy} to it: {@code dx[winner] += dy[n,c,i,j]}, windows in ascending order, so overlapping
 * windows add in a fixed order; a gradient nothing else has written is zeroed in the same pass. Threads split the
 * (n, c) planes; the kernels are {@link ConvKernels#maxPool}'s.
 */
public final class MaxPool2dOp {
    private MaxPool2dOp() {
    }

    public static Tensor forward(Tape tape, Tensor x, int kernel, int stride) {
        Pool2d pool = Pool2d.of("max pool", x, kernel, stride);
        Tensor y = tape.output(pool.outputShape()); // (N, C, Ho, Wo)
        if (x.requiresGrad()) {
            tape.record(() -> backward(tape, x, y, pool));
        }
        if (tape.planning()) {
            return y;
        }
        pool.forPlanes(tape, (from, to) -> ConvKernels.maxPool(y.data(), y.offset(), x.data(), x.offset(), from, to,
                pool.h(), pool.w(), pool.ho(), pool.wo(), pool.kernel(), pool.stride()));
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor y, Pool2d pool) {
        Tensor dy = tape.grad(y); // (N, C, Ho, Wo)
        Tensor fresh = tape.freshGrad(x); // zeroed plane by plane in the kernel's pass
        Tensor dx = fresh != null ? fresh : tape.grad(x); // (N, C, H, W)
        if (tape.planning()) {
            return;
        }
        pool.forPlanes(tape, (from, to) -> ConvKernels.maxPoolBackward(dx.data(), dx.offset(), fresh != null,
                x.data(), x.offset(), dy.data(), dy.offset(), from, to, pool.h(), pool.w(), pool.ho(), pool.wo(),
                pool.kernel(), pool.stride()));
    }
}
