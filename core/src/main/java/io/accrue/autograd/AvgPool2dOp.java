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
        int[] ys = Pool2d.outputShape("avg pool", x, kernel, stride);
        Tensor y = tape.output(ys);
        int h = x.dim(2);
        int w = x.dim(3);
        int ho = ys[2];
        int wo = ys[3];
        float scale = 1f / (kernel * kernel);
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
                        float s = 0f;
                        for (int u = 0; u < kernel; u++) {
                            int row = src + (i * stride + u) * w + j * stride;
                            for (int v = 0; v < kernel; v++) {
                                s += xd[row + v];
                            }
                        }
                        yd[dst + i * wo + j] = s * scale;
                    }
                }
            }
        });
        if (x.requiresGrad()) {
            tape.record(() -> backward(tape, x, y, kernel, stride, scale));
        }
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor y, int kernel, int stride, float scale) {
        Tensor dy = tape.grad(y); // (N, C, Ho, Wo)
        Tensor dx = tape.grad(x); // (N, C, H, W)
        int h = x.dim(2);
        int w = x.dim(3);
        int ho = y.dim(2);
        int wo = y.dim(3);
        float[] dyd = dy.data();
        float[] dxd = dx.data();
        int dxo = dx.offset();
        int dyo = dy.offset();
        tape.compute().parallel().forRange(y.dim(0) * y.dim(1), Pool2d.grain(h * w), (from, to) -> {
            for (int pl = from; pl < to; pl++) {
                int dst = dxo + pl * h * w;
                int g = dyo + pl * ho * wo;
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        float d = dyd[g + i * wo + j] * scale;
                        for (int u = 0; u < kernel; u++) {
                            int row = dst + (i * stride + u) * w + j * stride;
                            for (int v = 0; v < kernel; v++) {
                                dxd[row + v] += d;
                            }
                        }
                    }
                }
            }
        });
    }
}
