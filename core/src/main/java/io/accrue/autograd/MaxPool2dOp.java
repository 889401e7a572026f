package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * Max pooling over square windows, no padding: {@code y[n,c,i,j] = max_{u,v<k} x[n,c,i·s+u,j·s+v]}; x (N, C, H, W),
 * y (N, C, Ho, Wo) with {@code Ho = (H − k)/s + 1}.
 *
 * <p>The winner of a window is the first maximum in (u, v) order. Backward finds it again from x (nothing is
 * saved) and adds {@code dy} to it: {@code dx[winner] += dy[n,c,i,j]}, windows in ascending order, so overlapping
 * windows add in a fixed order. Threads split the (n, c) planes.
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
        float[] xd = x.data();
        float[] yd = y.data();
        pool.forPlanes(tape, (from, to) -> {
            for (int pl = from; pl < to; pl++) {
                int src = x.offset() + pl * pool.inPlane();
                int dst = y.offset() + pl * pool.outPlane();
                for (int i = 0; i < pool.ho(); i++) {
                    for (int j = 0; j < pool.wo(); j++) {
                        yd[dst + i * pool.wo() + j] = xd[argmax(xd, src + pool.origin(i, j), pool)];
                    }
                }
            }
        });
        return y;
    }

    /** Index of the first maximum of the window starting at {@code at}, in (u, v) order. */
    private static int argmax(float[] xd, int at, Pool2d pool) {
        int best = at;
        float bv = xd[best];
        for (int u = 0; u < pool.kernel(); u++) {
            int row = at + u * pool.w();
            for (int v = 0; v < pool.kernel(); v++) {
                if (xd[row + v] > bv) {
                    bv = xd[row + v];
                    best = row + v;
                }
            }
        }
        return best;
    }

    private static void backward(Tape tape, Tensor x, Tensor y, Pool2d pool) {
        Tensor dy = tape.grad(y); // (N, C, Ho, Wo)
        Tensor dx = tape.grad(x); // (N, C, H, W)
        if (tape.planning()) {
            return;
        }
        float[] xd = x.data();
        float[] dyd = dy.data();
        float[] dxd = dx.data();
        int shift = dx.offset() - x.offset(); // dx[e] pairs with x[e − shift]
        pool.forPlanes(tape, (from, to) -> {
            for (int pl = from; pl < to; pl++) {
                int src = x.offset() + pl * pool.inPlane();
                int g = dy.offset() + pl * pool.outPlane();
                for (int i = 0; i < pool.ho(); i++) {
                    for (int j = 0; j < pool.wo(); j++) {
                        dxd[argmax(xd, src + pool.origin(i, j), pool) + shift] += dyd[g + i * pool.wo() + j];
                    }
                }
            }
        });
    }
}
