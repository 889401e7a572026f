package io.accrue.autograd;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.Tensor;
import io.accrue.tensor.conv.ConvKernels;
import io.accrue.tensor.conv.ConvShape;
import io.accrue.tensor.gemm.Gemm;
import io.accrue.tensor.gemm.Matrix;

import java.util.Arrays;

/**
 * 2-D convolution (cross-correlation, as in PyTorch) by im2col + GEMM over chunks of the micro-batch:
 * {@code y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v]·x[n,c,i·s+u−p,j·s+v−p]} (zero outside the image);
 * x (N, Cin, H, W), w (Cout, Cin, KH, KW), b (Cout) or null, y (N, Cout, Ho, Wo) with
 * {@code Ho = (H + 2p − KH)/s + 1}, {@code Wo = (W + 2p − KW)/s + 1}.
 *
 * <p>The examples are taken in chunks of E consecutive ones, as many as keep the chunk's im2col matrix under
 * {@link #CHUNK_FLOATS} (the whole micro-batch for small maps). Forward forms a chunk's {@code cols}
 * (Cin·KH·KW, E·Ho·Wo), multiplies {@code W(Cout, Cin·KH·KW)·cols} in one GEMM into a channel-major map
 * (Cout, E·Ho·Wo) whose rows start from the bias, and copies it to y. Each output is one chain along (c, u, v)
 * from its bias, so an example's output does not depend on the rest of the micro-batch. Backward, chunk by chunk in
 * example order, copies dY to the channel-major map, forms cols again (unless the single chunk's are still there)
 * and, one GEMM each:
 * <ul>
 *   <li>{@code dW += dY·colsᵀ}: the reduction runs along (example, position) ascending and continues from the
 *       gradient buffer's value, chunk after chunk, so each weight element is ONE ordered chain over the examples —
 *       cutting the batch into micro-batches or chunks changes no bit (law 3);</li>
 *   <li>{@code db[o] += Σ_{n,i,j} dY[n,o,i,j]}, the same order;</li>
 *   <li>{@code dcols = Wᵀ·dY} into the cols buffer (dW has used it), then col2im adds it into dx in a fixed
 *       order per image plane ({@link ConvKernels#col2im}).</li>
 * </ul>
 * An op call takes two buffers from the arena ({@link Tape#scratch}), kept from forward to backward: cols and the
 * channel-major map (Cout, E·Ho·Wo).
 */
public final class Conv2dOp {
    /**
     * Most floats of a chunk's im2col matrix (8 MB): the whole micro-batch of a small map in one GEMM, while a large
     * batch (evaluation) or map does not hold an im2col copy of all its images.
     */
    static final int CHUNK_FLOATS = 1 << 21;

    private Conv2dOp() {
    }

    /** Output spatial size {@code (in + 2·padding − kernel)/stride + 1}, or ≤ 0 when the kernel does not fit. */
    public static int outputSize(int in, int kernel, int stride, int padding) {
        return ConvShape.outputSize(in, kernel, stride, padding);
    }

    public static Tensor forward(Tape tape, Tensor x, Tensor w, Tensor b, int stride, int padding) {
        return forward(tape, x, w, b, stride, padding, CHUNK_FLOATS);
    }

    /** {@link #forward} with chunks of at most {@code chunkFloats} im2col floats (tests cut small chunks). */
    static Tensor forward(Tape tape, Tensor x, Tensor w, Tensor b, int stride, int padding, int chunkFloats) {
        if (x.rank() != 4 || w.rank() != 4 || w.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException("conv2d: input " + x + " (N, Cin, H, W) does not match weight " + w
                    + " (Cout, Cin, KH, KW)");
        }
        if (stride <= 0 || padding < 0) {
            throw new IllegalArgumentException("conv2d: stride must be ≥ 1 and padding ≥ 0, got stride=" + stride
                    + " padding=" + padding + " for input " + x + " and weight " + w);
        }
        int cout = w.dim(0);
        int ho = outputSize(x.dim(2), w.dim(2), stride, padding);
        int wo = outputSize(x.dim(3), w.dim(3), stride, padding);
        if (ho <= 0 || wo <= 0) {
            throw new IllegalArgumentException("conv2d: kernel " + w + " does not fit input " + x + " with padding "
                    + padding + " (output would be " + ho + "×" + wo + ")");
        }
        if (b != null) {
            b.requireShape("conv2d bias", cout);
        }
        int n = x.dim(0);
        int perExample = x.dim(1) * w.dim(2) * w.dim(3) * ho * wo;
        int chunk = Math.max(1, Math.min(n, chunkFloats / perExample));
        ConvShape g = new ConvShape(chunk, x.dim(1), x.dim(2), x.dim(3), w.dim(2), w.dim(3), ho, wo, stride, padding);
        Tensor y = tape.output(n, cout, ho, wo);
        Tensor cols = tape.scratch(g.rows(), g.columns()); // (Cin·KH·KW, E·Ho·Wo)
        Tensor map = tape.scratch(cout, g.columns()); // (Cout, E·Ho·Wo): y, then dY, channel-major
        if (x.requiresGrad() || w.requiresGrad() || (b != null && b.requiresGrad())) {
            tape.record(() -> backward(tape, g, x, w, b, y, cols, map));
        }
        if (tape.planning()) {
            return y;
        }
        Parallel parallel = tape.compute().parallel();
        Matrix wm = Matrix.of(w, cout, g.rows());
        for (int e0 = 0; e0 < n; e0 += chunk) {
            ConvShape c = g.first(Math.min(chunk, n - e0));
            ConvKernels.im2col(parallel, cols.data(), cols.offset(), x.data(), x.offset() + e0 * c.imageSize(), c);
            Matrix mapm = Matrix.of(map.data(), map.offset(), cout, c.columns());
            Matrix colsm = Matrix.of(cols.data(), cols.offset(), c.rows(), c.columns());
            if (b == null) {
                tape.compute().gemm().multiplyInto(mapm, wm, colsm);
            } else {
                float[] md = map.data();
                parallel.forRange(cout, 1, (from, to) -> {
                    for (int o = from; o < to; o++) {
                        Arrays.fill(md, map.offset() + o * c.columns(), map.offset() + (o + 1) * c.columns(),
                                b.get(o));
                    }
                });
                tape.compute().gemm().multiply(mapm, wm, colsm);
            }
            ConvKernels.fromChannelMajor(parallel, y.data(), y.offset() + e0 * cout * c.positions(), map.data(),
                    map.offset(), c.n(), cout, c.positions());
        }
        return y;
    }

    private static void backward(Tape tape, ConvShape g, Tensor x, Tensor w, Tensor b, Tensor y, Tensor cols,
                                 Tensor map) {
        Tensor dy = tape.grad(y); // (N, Cout, Ho, Wo)
        Tensor dw = w.requiresGrad() ? tape.grad(w) : null; // (Cout, Cin, KH, KW)
        Tensor db = b != null && b.requiresGrad() ? tape.grad(b) : null; // (Cout)
        Tensor dx = x.requiresGrad() ? tape.grad(x) : null; // (N, Cin, H, W)
        if (tape.planning()) {
            return;
        }
        int n = x.dim(0);
        int cout = w.dim(0);
        Parallel parallel = tape.compute().parallel();
        Gemm gemm = tape.compute().gemm();
        for (int e0 = 0; e0 < n; e0 += g.n()) {
            ConvShape c = g.first(Math.min(g.n(), n - e0));
            ConvKernels.toChannelMajor(parallel, map.data(), map.offset(), dy.data(),
                    dy.offset() + e0 * cout * c.positions(), c.n(), cout, c.positions());
            Matrix dym = Matrix.of(map.data(), map.offset(), cout, c.columns()); // (Cout, E·Ho·Wo)
            Matrix colsm = Matrix.of(cols.data(), cols.offset(), c.rows(), c.columns()); // (Cin·KH·KW, E·Ho·Wo)
            if (db != null) {
                addRowSums(parallel, db, map, cout, c.columns());
            }
            if (dw != null) {
                if (n > g.n()) { // several chunks: the last forward chunk's cols are there, not this one's
                    ConvKernels.im2col(parallel, cols.data(), cols.offset(), x.data(),
                            x.offset() + e0 * c.imageSize(), c);
                }
                gemm.multiply(Matrix.of(dw, cout, c.rows()), dym, colsm.t());
            }
            if (dx != null) {
                gemm.multiplyInto(colsm, Matrix.of(w, cout, c.rows()).t(), dym); // dcols, over cols: dW used them
                ConvKernels.col2im(parallel, dx.data(), dx.offset() + e0 * c.imageSize(), cols.data(), cols.offset(),
                        c);
            }
        }
    }

    /** {@code db[o] += Σ_p map[o][p]}, p ascending from the buffer's value: one chain per output channel. */
    private static void addRowSums(Parallel parallel, Tensor db, Tensor map, int cout, int columns) {
        float[] dbd = db.data();
        float[] md = map.data();
        parallel.forRange(cout, 1, (from, to) -> {
            for (int o = from; o < to; o++) {
                float acc = dbd[db.offset() + o];
                int row = map.offset() + o * columns;
                for (int p = 0; p < columns; p++) {
                    acc += md[row + p];
                }
                dbd[db.offset() + o] = acc;
            }
        });
    }
}
