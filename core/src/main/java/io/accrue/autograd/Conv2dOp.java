package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.gemm.Gemm;
import io.accrue.tensor.gemm.Matrix;

import java.util.Arrays;

/**
 * 2-D convolution (cross-correlation, as in PyTorch) by im2col + GEMM, one example at a time:
 * {@code y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v]·x[n,c,i·s+u−p,j·s+v−p]} (zero outside the image);
 * x (N, Cin, H, W), w (Cout, Cin, KH, KW), b (Cout) or null, y (N, Cout, Ho, Wo) with
 * {@code Ho = (H + 2p − KH)/s + 1}, {@code Wo = (W + 2p − KW)/s + 1}.
 *
 * <p>Per example n, {@code cols} (Cin·KH·KW, Ho·Wo) is the example's im2col matrix; forward fills y[n] with the
 * bias and accumulates {@code W(Cout, Cin·KH·KW)·cols} into it, so an example's output does not depend on the
 * rest of the micro-batch. Backward, per example n ascending, re-forms cols in the same arena buffer and:
 * <ul>
 *   <li>{@code dW += dY[n]·colsᵀ}: the GEMM's reduction runs along positions ascending and continues from the
 *       gradient buffer's value, so each weight element is ONE ordered chain over (example ascending, position
 *       ascending) — cutting the batch into micro-batches changes no bit (law 3);</li>
 *   <li>{@code db[o] += Σ_{n,i,j} dY[n,o,i,j]}, the same order;</li>
 *   <li>{@code dcols = Wᵀ·dY[n]} into the (reused) cols buffer, then col2im scatter-adds it into dx[n] in a fixed
 *       order per input channel ((u, v) then positions ascending); threads split input channels.</li>
 * </ul>
 * The only memory an op call takes is one cols buffer from the arena ({@link Tape#scratch}), shared by forward and
 * backward.
 */
public final class Conv2dOp {
    private Conv2dOp() {
    }

    /** Output spatial size {@code (in + 2·padding − kernel)/stride + 1}, or ≤ 0 when the kernel does not fit. */
    public static int outputSize(int in, int kernel, int stride, int padding) {
        int span = in + 2 * padding - kernel;
        return span < 0 ? 0 : span / stride + 1;
    }

    public static Tensor forward(Tape tape, Tensor x, Tensor w, Tensor b, int stride, int padding) {
        if (x.rank() != 4 || w.rank() != 4 || w.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException("conv2d: input " + x + " (N, Cin, H, W) does not match weight " + w
                    + " (Cout, Cin, KH, KW)");
        }
        if (stride <= 0 || padding < 0) {
            throw new IllegalArgumentException("conv2d: stride must be ≥ 1 and padding ≥ 0, got stride=" + stride
                    + " padding=" + padding + " for input " + x + " and weight " + w);
        }
        int n = x.dim(0);
        int cin = x.dim(1);
        int h = x.dim(2);
        int wd = x.dim(3);
        int cout = w.dim(0);
        int kh = w.dim(2);
        int kw = w.dim(3);
        int ho = outputSize(h, kh, stride, padding);
        int wo = outputSize(wd, kw, stride, padding);
        if (ho <= 0 || wo <= 0) {
            throw new IllegalArgumentException("conv2d: kernel " + w + " does not fit input " + x + " with padding "
                    + padding + " (output would be " + ho + "×" + wo + ")");
        }
        if (b != null) {
            b.requireShape("conv2d bias", cout);
        }
        Geometry g = new Geometry(cin, h, wd, kh, kw, ho, wo, stride, padding);
        Tensor y = tape.output(n, cout, ho, wo);
        Tensor cols = tape.scratch(g.rows(), g.positions()); // (Cin·KH·KW, Ho·Wo), one example at a time
        if (x.requiresGrad() || w.requiresGrad() || (b != null && b.requiresGrad())) {
            tape.record(() -> backward(tape, g, x, w, b, y, cols));
        }
        if (tape.planning()) {
            return y;
        }
        int kk = g.rows();
        int pos = g.positions();
        float[] yd = y.data();
        Gemm gemm = tape.compute().gemm();
        Matrix wm = Matrix.of(w, cout, kk);
        Matrix colsm = Matrix.of(cols);
        for (int ex = 0; ex < n; ex++) {
            int yo = y.offset() + ex * cout * pos;
            for (int o = 0; o < cout; o++) {
                Arrays.fill(yd, yo + o * pos, yo + (o + 1) * pos, b == null ? 0f : b.get(o));
            }
            im2col(tape, g, x.data(), x.offset() + ex * cin * h * wd, cols.data(), cols.offset());
            gemm.multiply(Matrix.of(yd, yo, cout, pos), wm, colsm);
        }
        return y;
    }

    private static void backward(Tape tape, Geometry g, Tensor x, Tensor w, Tensor b, Tensor y, Tensor cols) {
        Tensor dy = tape.grad(y); // (N, Cout, Ho, Wo)
        Tensor dw = w.requiresGrad() ? tape.grad(w) : null; // (Cout, Cin, KH, KW)
        Tensor db = b != null && b.requiresGrad() ? tape.grad(b) : null; // (Cout)
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null; // (N, Cin, H, W)
        if (tape.planning()) {
            return;
        }
        int n = x.dim(0);
        int cout = w.dim(0);
        int kk = g.rows();
        int pos = g.positions();
        int plane = g.cin() * g.h() * g.w();
        float[] dyd = dy.data();
        float[] cd = cols.data();
        int co = cols.offset();
        Gemm gemm = tape.compute().gemm();
        Matrix dwm = dw != null ? Matrix.of(dw, cout, kk) : null;
        Matrix colsm = Matrix.of(cd, co, kk, pos);
        Matrix colsT = colsm.t();
        Matrix wT = Matrix.of(w, cout, kk).t();
        for (int ex = 0; ex < n; ex++) {
            int dyo = dy.offset() + ex * cout * pos;
            Matrix dym = Matrix.of(dyd, dyo, cout, pos);
            if (dw != null) {
                im2col(tape, g, x.data(), x.offset() + ex * plane, cd, co);
                // dW(Cout, KK) += dY[n](Cout, pos) · cols(KK, pos)ᵀ: one chain along positions per weight element.
                gemm.multiply(dwm, dym, colsT);
            }
            if (db != null) {
                float[] dbd = db.data();
                for (int o = 0; o < cout; o++) {
                    int i = db.offset() + o;
                    float acc = dbd[i];
                    int e = dyo + o * pos;
                    for (int p = 0; p < pos; p++) {
                        acc += dyd[e + p];
                    }
                    dbd[i] = acc;
                }
            }
            if (dx != null) {
                // dcols(KK, pos) = Wᵀ(KK, Cout) · dY[n](Cout, pos), then scattered back onto the image.
                Arrays.fill(cd, co, co + kk * pos, 0f);
                gemm.multiply(colsm, wT, dym);
                col2im(tape, g, cd, co, dx.data(), dx.offset() + ex * plane);
            }
        }
    }

    /** Shape of one example's convolution. */
    record Geometry(int cin, int h, int w, int kh, int kw, int ho, int wo, int stride, int padding) {
        int rows() {
            return cin * kh * kw;
        }

        int positions() {
            return ho * wo;
        }
    }

    /** cols[(c,u,v)][(i,j)] = x[c, i·s+u−p, j·s+v−p] or 0 outside; threads split the rows of cols. */
    static void im2col(Tape tape, Geometry g, float[] x, int xo, float[] cols, int co) {
        int khw = g.kh() * g.kw();
        int pos = g.positions();
        tape.compute().parallel().forRange(g.rows(), Math.max(1, (1 << 15) / pos), (from, to) -> {
            for (int r = from; r < to; r++) {
                int c = r / khw;
                int u = (r % khw) / g.kw();
                int v = r % g.kw();
                int plane = xo + c * g.h() * g.w();
                int out = co + r * pos;
                for (int i = 0; i < g.ho(); i++) {
                    int row = i * g.stride() + u - g.padding();
                    int o = out + i * g.wo();
                    if (row < 0 || row >= g.h()) {
                        Arrays.fill(cols, o, o + g.wo(), 0f);
                        continue;
                    }
                    int src = plane + row * g.w();
                    for (int j = 0; j < g.wo(); j++) {
                        int col = j * g.stride() + v - g.padding();
                        cols[o + j] = col >= 0 && col < g.w() ? x[src + col] : 0f;
                    }
                }
            }
        });
    }

    /**
     * dx[c, i·s+u−p, j·s+v−p] += dcols[(c,u,v)][(i,j)] for positions inside the image; per input channel c the
     * additions run in the fixed order (u, v, i, j) ascending, and threads split the channels.
     */
    static void col2im(Tape tape, Geometry g, float[] dcols, int co, float[] dx, int dxo) {
        int khw = g.kh() * g.kw();
        int pos = g.positions();
        tape.compute().parallel().forRange(g.cin(), Math.max(1, (1 << 15) / (khw * pos)), (from, to) -> {
            for (int c = from; c < to; c++) {
                int plane = dxo + c * g.h() * g.w();
                for (int uv = 0; uv < khw; uv++) {
                    int u = uv / g.kw();
                    int v = uv % g.kw();
                    int in = co + (c * khw + uv) * pos;
                    for (int i = 0; i < g.ho(); i++) {
                        int row = i * g.stride() + u - g.padding();
                        if (row < 0 || row >= g.h()) {
                            continue;
                        }
                        int dst = plane + row * g.w();
                        int o = in + i * g.wo();
                        for (int j = 0; j < g.wo(); j++) {
                            int col = j * g.stride() + v - g.padding();
                            if (col >= 0 && col < g.w()) {
                                dx[dst + col] += dcols[o + j];
                            }
                        }
                    }
                }
            }
        });
    }
}
