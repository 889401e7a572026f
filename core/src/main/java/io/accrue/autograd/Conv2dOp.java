package io.accrue.autograd;

import io.accrue.tensor.Gemm;
import io.accrue.tensor.Tensor;

import java.util.Arrays;

/**
 * 2-D convolution (cross-correlation, as in PyTorch) by im2col + GEMM:
 * {@code y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v]·x[n,c,i·s+u−p,j·s+v−p]} (zero outside the image);
 * x (N, Cin, H, W), w (Cout, Cin, KH, KW), b (Cout) or null, y (N, Cout, Ho, Wo) with
 * {@code Ho = (H + 2p − KH)/s + 1}, {@code Wo = (W + 2p − KW)/s + 1}.
 *
 * <p>{@code cols} (Cin·KH·KW, N·Ho·Wo) holds the im2col matrix of the micro-batch, its columns ordered (example,
 * position) ascending. Forward: {@code Y(Cout, N·pos) = b + W·cols}, each output one FMA chain along (c, u, v) from
 * the bias, so an example's output does not depend on the rest of the micro-batch (the GEMM's bits do not depend
 * on its size); Y is then reordered to (N, Cout, Ho, Wo). Backward, with {@code dYᵀ} (Cout, N·pos):
 * <ul>
 *   <li>{@code dW += dYᵀ·colsᵀ}: the GEMM's reduction runs along (example ascending, position ascending) and
 *       continues from the gradient buffer's value, so each weight element is ONE ordered chain over the examples
 *       and cutting the batch into micro-batches changes no bit (law 3);</li>
 *   <li>{@code db[o] += Σ_{n,i,j} dY[n,o,i,j]}, the same order;</li>
 *   <li>{@code dcols = Wᵀ·dYᵀ} into the cols buffer, then col2im scatter-adds it into dx[n] per example, in a fixed
 *       order per input channel ((u, v) then positions ascending); threads split input channels.</li>
 * </ul>
 * Memory: the cols matrix and one (Cout, N·pos) buffer from the arena ({@link Tape#scratch}), kept for backward.
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
        int kk = g.rows();
        int pos = g.positions();
        int cols = n * pos; // columns of the micro-batch's im2col matrix: (example, position) ascending
        Tensor y = tape.output(n, cout, ho, wo);
        Tensor col = tape.scratch(kk, cols); // (Cin·KH·KW, N·Ho·Wo), kept for backward
        Tensor mix = tape.scratch(cout, cols); // (Cout, N·Ho·Wo): Y before reordering, later dYᵀ
        float[] cd = col.data();
        float[] md = mix.data();
        int co = col.offset();
        int mo = mix.offset();
        for (int ex = 0; ex < n; ex++) {
            im2col(tape, g, x.data(), x.offset() + ex * cin * h * wd, cd, co + ex * pos, cols);
        }
        for (int o = 0; o < cout; o++) {
            Arrays.fill(md, mo + o * cols, mo + (o + 1) * cols, b == null ? 0f : b.get(o));
        }
        // Y(Cout, N·pos) = bias + W(Cout, KK)·cols: each output one chain along KK from the bias.
        tape.compute().gemm().multiply(md, mo, cols, w.data(), w.offset(), kk, false, cd, co, cols, false,
                cout, cols, kk);
        reorder(tape, md, mo, y.data(), y.offset(), n, cout, pos, false);
        if (x.requiresGrad() || w.requiresGrad() || (b != null && b.requiresGrad())) {
            tape.record(() -> backward(tape, g, x, w, b, y, col, mix));
        }
        return y;
    }

    private static void backward(Tape tape, Geometry g, Tensor x, Tensor w, Tensor b, Tensor y, Tensor col,
                                 Tensor mix) {
        Tensor dy = tape.grad(y); // (N, Cout, Ho, Wo)
        Tensor dw = w.requiresGrad() ? tape.grad(w) : null; // (Cout, Cin, KH, KW)
        Tensor db = b != null && b.requiresGrad() ? tape.grad(b) : null; // (Cout)
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null; // (N, Cin, H, W)
        int n = x.dim(0);
        int cout = w.dim(0);
        int kk = g.rows();
        int pos = g.positions();
        int cols = n * pos;
        int plane = g.cin() * g.h() * g.w();
        float[] dyd = dy.data();
        float[] cd = col.data();
        float[] md = mix.data();
        int co = col.offset();
        int mo = mix.offset();
        Gemm gemm = tape.compute().gemm();
        if (db != null) {
            // db[o]: one chain over (example ascending, position ascending) from the buffer's value (law 3).
            float[] dbd = db.data();
            for (int o = 0; o < cout; o++) {
                int i = db.offset() + o;
                float acc = dbd[i];
                for (int ex = 0; ex < n; ex++) {
                    int e = dy.offset() + (ex * cout + o) * pos;
                    for (int p = 0; p < pos; p++) {
                        acc += dyd[e + p];
                    }
                }
                dbd[i] = acc;
            }
        }
        if (dw == null && dx == null) {
            return;
        }
        reorder(tape, md, mo, dyd, dy.offset(), n, cout, pos, true); // dYᵀ (Cout, N·pos)
        if (dw != null) {
            // dW(Cout, KK) += dYᵀ(Cout, N·pos)·cols(KK, N·pos)ᵀ: the GEMM's reduction runs along (example,
            // position) ascending and continues from the buffer, so every split of the batch gives the same bits.
            gemm.multiply(dw.data(), dw.offset(), kk, md, mo, cols, false, cd, co, cols, true, cout, kk, cols);
        }
        if (dx != null) {
            // dcols(KK, N·pos) = Wᵀ(KK, Cout)·dYᵀ, into the cols buffer (no longer needed), then col2im per example.
            Arrays.fill(cd, co, co + kk * cols, 0f);
            gemm.multiply(cd, co, cols, w.data(), w.offset(), kk, true, md, mo, cols, false, kk, cols, cout);
            for (int ex = 0; ex < n; ex++) {
                col2im(tape, g, cd, co + ex * pos, cols, dx.data(), dx.offset() + ex * plane);
            }
        }
    }

    /**
     * Between the (Cout, N·pos) GEMM layout and the (N, Cout, pos) tensor layout: {@code toMix=false} writes
     * {@code t[n][o][p] = mix[o][n·pos + p]}, {@code toMix=true} the reverse. Threads split the channels.
     */
    private static void reorder(Tape tape, float[] mix, int mo, float[] t, int to, int n, int cout, int pos,
                                boolean toMix) {
        int cols = n * pos;
        tape.compute().parallel().forRange(cout, Math.max(1, (1 << 16) / cols), (from, end) -> {
            for (int o = from; o < end; o++) {
                for (int ex = 0; ex < n; ex++) {
                    int m = mo + o * cols + ex * pos;
                    int e = to + (ex * cout + o) * pos;
                    if (toMix) {
                        System.arraycopy(t, e, mix, m, pos);
                    } else {
                        System.arraycopy(mix, m, t, e, pos);
                    }
                }
            }
        });
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

    /**
     * cols[(c,u,v)][(i,j)] = x[c, i·s+u−p, j·s+v−p] or 0 outside, rows {@code ld} apart; threads split the rows.
     */
    static void im2col(Tape tape, Geometry g, float[] x, int xo, float[] cols, int co, int ld) {
        int khw = g.kh() * g.kw();
        int pos = g.positions();
        tape.compute().parallel().forRange(g.rows(), Math.max(1, (1 << 15) / pos), (from, to) -> {
            for (int r = from; r < to; r++) {
                int c = r / khw;
                int u = (r % khw) / g.kw();
                int v = r % g.kw();
                int plane = xo + c * g.h() * g.w();
                int out = co + r * ld;
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
    static void col2im(Tape tape, Geometry g, float[] dcols, int co, int ld, float[] dx, int dxo) {
        int khw = g.kh() * g.kw();
        int pos = g.positions();
        tape.compute().parallel().forRange(g.cin(), Math.max(1, (1 << 15) / (khw * pos)), (from, to) -> {
            for (int c = from; c < to; c++) {
                int plane = dxo + c * g.h() * g.w();
                for (int uv = 0; uv < khw; uv++) {
                    int u = uv / g.kw();
                    int v = uv % g.kw();
                    int in = co + (c * khw + uv) * ld;
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
