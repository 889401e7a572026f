package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * Average pooling over square windows, no padding: {@code y[n,c,i,j] = (Σ_{u,v<k} x[n,c,i·s+u,j·s+v]) / k²}, the
 * sum in (u, v) order; x (N, C, H, W), y (N, C, Ho, Wo) with {@code Ho = (H − k)/s + 1}.
 *
 * <p>Backward: {@code dx[n,c,i·s+u,j·s+v] += dy[n,c,i,j] / k²}, windows in ascending order. Threads split the
 * (n, c) planes.
 */
public final class AvgPool2dOp {
    private AvgPool2dOp() {
    }

    public static Tensor forward(Tape tape, Tensor x, int kernel, int stride) {
        Pool2d pool = Pool2d.of("avg pool", x, kernel, stride);
        Tensor y = tape.output(pool.outputShape()); // (N, C, Ho, Wo)
        float scale = 1f / (kernel * kernel);
        if (x.requiresGrad()) {
            tape.record(() -> backward(tape, x, y, pool, scale));
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
                        yd[dst + i * pool.wo() + j] = windowSum(xd, src + pool.origin(i, j), pool) * scale;
                    }
                }
            }
        });
        return y;
    }

    /** Σ of the window starting at {@code at}, in (u, v) order. */
    private static float windowSum(float[] xd, int at, Pool2d pool) {
        float s = 0f;
        for (int u = 0; u < pool.kernel(); u++) {
            int row = at + u * pool.w();
            for (int v = 0; v < pool.kernel(); v++) {
                s += xd[row + v];
            }
        }
        return s;
    }

    private static void backward(Tape tape, Tensor x, Tensor y, Pool2d pool, float scale) {
        Tensor dy = tape.grad(y); // (N, C, Ho, Wo)
        Tensor dx = tape.grad(x); // (N, C, H, W)
        if (tape.planning()) {
            return;
        }
        float[] dyd = dy.data();
        float[] dxd = dx.data();
        pool.forPlanes(tape, (from, to) -> {
            for (int pl = from; pl < to; pl++) {
                int dst = dx.offset() + pl * pool.inPlane();
                int g = dy.offset() + pl * pool.outPlane();
                for (int i = 0; i < pool.ho(); i++) {
                    for (int j = 0; j < pool.wo(); j++) {
                        float d = dyd[g + i * pool.wo() + j] * scale;
                        int at = dst + pool.origin(i, j);
                        for (int u = 0; u < pool.kernel(); u++) {
                            int row = at + u * pool.w();
                            for (int v = 0; v < pool.kernel(); v++) {
                                dxd[row + v] += d;
                            }
                        }
                    }
                }
            }
        });
    }
}
