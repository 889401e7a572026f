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
        int[] ys = Pool2d.outputShape("max pool", x, kernel, stride);
        Tensor y = tape.output(ys);
        int h = x.dim(2);
        int w = x.dim(3);
        int ho = ys[2];
        int wo = ys[3];
        float[] xd = x.data();
        float[] yd = y.data();
        int xo = x.offset();
        int yo = y.offset();
        tape.compute().parallel().forRange(ys[0] * ys[1], Pool2d.grain(h * w), (from, to) -> {
            for (int pl = from; pl < to; pl++) {
                int src = xo + pl * h * w;
                int dst = yo + pl * ho * wo;
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        yd[dst + i * wo + j] = xd[argmax(xd, src, w, i * stride, j * stride, kernel)];
                    }
                }
            }
        });
        if (x.requiresGrad()) {
            tape.record(() -> backward(tape, x, y, kernel, stride));
        }
        return y;
    }

    /** Index of the first maximum of the k×k window at (r0, c0) of the plane starting at {@code src}. */
    private static int argmax(float[] xd, int src, int w, int r0, int c0, int k) {
        int best = src + r0 * w + c0;
        float bv = xd[best];
        for (int u = 0; u < k; u++) {
            int row = src + (r0 + u) * w + c0;
            for (int v = 0; v < k; v++) {
                if (xd[row + v] > bv) {
                    bv = xd[row + v];
                    best = row + v;
                }
            }
        }
        return best;
    }

    private static void backward(Tape tape, Tensor x, Tensor y, int kernel, int stride) {
        Tensor dy = tape.grad(y); // (N, C, Ho, Wo)
        Tensor dx = tape.grad(x); // (N, C, H, W)
        int h = x.dim(2);
        int w = x.dim(3);
        int ho = y.dim(2);
        int wo = y.dim(3);
        float[] xd = x.data();
        float[] dyd = dy.data();
        float[] dxd = dx.data();
        int xo = x.offset();
        int dyo = dy.offset();
        int shift = dx.offset() - xo; // dx[e] pairs with x[e − shift]
        tape.compute().parallel().forRange(y.dim(0) * y.dim(1), Pool2d.grain(h * w), (from, to) -> {
            for (int pl = from; pl < to; pl++) {
                int src = xo + pl * h * w;
                int g = dyo + pl * ho * wo;
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        dxd[argmax(xd, src, w, i * stride, j * stride, kernel) + shift] += dyd[g + i * wo + j];
                    }
                }
            }
        });
    }
}
