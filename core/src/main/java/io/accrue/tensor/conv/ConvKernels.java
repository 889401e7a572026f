package io.accrue.tensor.conv;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.VectorApi;
import io.accrue.tensor.elementwise.Elementwise;

import java.util.Arrays;

/**
 * The dispatcher and scalar oracles of the convolution family. Outputs first, then inputs (STYLE 5); the
 * {@code *Scalar} methods are the oracles — one element at a time, a bounds check per element — and the public
 * methods are the fast paths with the oracles' bits: im2col copies whole rows of an image
 * ({@link System#arraycopy} at stride 1) between the zero runs of the padding, col2im adds whole rows with the
 * elementwise family's vector add, and 2×2 pooling with stride 2 runs on vectors ({@link VectorPool}).
 *
 * <p>The batched layout: the im2col matrix is (Cin·KH·KW, N·Ho·Wo), example n's positions in columns
 * {@code [n·Ho·Wo, (n+1)·Ho·Wo)}, so one GEMM covers the whole micro-batch; its product (Cout, N·Ho·Wo) is
 * channel-major and {@link #fromChannelMajor} copies it to (N, Cout, Ho, Wo).
 */
public final class ConvKernels {
    private static final boolean VECTOR = VectorApi.AVAILABLE;
    /** Floats a thread part should move at least: waking a thread for less costs more than it saves. */
    private static final int GRAIN_FLOATS = 1 << 14;

    private ConvKernels() {
    }

    /**
     * {@code cols[(c,u,v)][(n,i,j)] = x[n, c, i·s+u−p, j·s+v−p]}, 0 outside the image; cols (Cin·KH·KW, N·Ho·Wo)
     * dense at {@code colsOff}, x (N, Cin, H, W) at {@code xOff}. Threads split the (row, example) runs.
     */
    public static void im2col(Parallel parallel, float[] cols, int colsOff, float[] x, int xOff, ConvShape g) {
        int pos = g.positions();
        parallel.forRange(g.rows() * g.n(), Math.max(1, GRAIN_FLOATS / pos), (from, to) -> {
            for (int unit = from; unit < to; unit++) {
                int r = unit / g.n();
                int ex = unit % g.n();
                im2colRun(cols, colsOff + r * g.columns() + ex * pos, x, xOff + ex * g.imageSize(), g, r);
            }
        });
    }

    /** Example ex's run of im2col row r ((c, u, v)): Ho·Wo floats at {@code out}, from the image at {@code image}. */
    private static void im2colRun(float[] cols, int out, float[] x, int image, ConvShape g, int r) {
        int khw = g.kh() * g.kw();
        int u = (r % khw) / g.kw();
        int v = r % g.kw();
        int plane = image + (r / khw) * g.h() * g.w();
        int j0 = g.firstInside(v);
        int j1 = Math.max(j0, g.endInside(v));
        for (int i = 0; i < g.ho(); i++) {
            int row = i * g.stride() + u - g.padding();
            int o = out + i * g.wo();
            if (row < 0 || row >= g.h()) {
                Arrays.fill(cols, o, o + g.wo(), 0f);
                continue;
            }
            Arrays.fill(cols, o, o + j0, 0f);
            int src = plane + row * g.w() + v - g.padding();
            if (g.stride() == 1) {
                System.arraycopy(x, src + j0, cols, o + j0, j1 - j0);
            } else {
                for (int j = j0; j < j1; j++) {
                    cols[o + j] = x[src + j * g.stride()];
                }
            }
            Arrays.fill(cols, o + j1, o + g.wo(), 0f);
        }
    }

    /** The oracle of {@link #im2col}, on the calling thread. */
    public static void im2colScalar(float[] cols, int colsOff, float[] x, int xOff, ConvShape g) {
        int khw = g.kh() * g.kw();
        for (int r = 0; r < g.rows(); r++) {
            int c = r / khw;
            int u = (r % khw) / g.kw();
            int v = r % g.kw();
            for (int ex = 0; ex < g.n(); ex++) {
                for (int i = 0; i < g.ho(); i++) {
                    for (int j = 0; j < g.wo(); j++) {
                        int row = i * g.stride() + u - g.padding();
                        int col = j * g.stride() + v - g.padding();
                        boolean inside = row >= 0 && row < g.h() && col >= 0 && col < g.w();
                        cols[colsOff + r * g.columns() + ex * g.positions() + i * g.wo() + j] = inside
                                ? x[xOff + ex * g.imageSize() + (c * g.h() + row) * g.w() + col] : 0f;
                    }
                }
            }
        }
    }

    /**
     * {@code dx[n, c, i·s+u−p, j·s+v−p] += dcols[(c,u,v)][(n,i,j)]} for positions inside the image; dx
     * (N, Cin, H, W) at {@code dxOff}, dcols laid out as {@link #im2col}'s cols. Each plane (n, c) takes its
     * additions in the order (u, v, i, j) ascending; threads split the planes.
     */
    public static void col2im(Parallel parallel, float[] dx, int dxOff, float[] dcols, int colsOff, ConvShape g) {
        int khw = g.kh() * g.kw();
        parallel.forRange(g.n() * g.cin(), Math.max(1, GRAIN_FLOATS / (khw * g.positions())), (from, to) -> {
            for (int plane = from; plane < to; plane++) {
                col2imPlane(dx, dxOff, dcols, colsOff, g, plane / g.cin(), plane % g.cin());
            }
        });
    }

    private static void col2imPlane(float[] dx, int dxOff, float[] dcols, int colsOff, ConvShape g, int ex, int c) {
        int khw = g.kh() * g.kw();
        int plane = dxOff + ex * g.imageSize() + c * g.h() * g.w();
        for (int uv = 0; uv < khw; uv++) {
            int u = uv / g.kw();
            int v = uv % g.kw();
            int in = colsOff + (c * khw + uv) * g.columns() + ex * g.positions();
            int j0 = g.firstInside(v);
            int j1 = Math.max(j0, g.endInside(v));
            for (int i = 0; i < g.ho(); i++) {
                int row = i * g.stride() + u - g.padding();
                if (row < 0 || row >= g.h()) {
                    continue;
                }
                int dst = plane + row * g.w() + v - g.padding();
                int o = in + i * g.wo();
                if (g.stride() == 1) {
                    Elementwise.add(dx, dst + j0, dx, dst + j0, dcols, o + j0, j1 - j0);
                } else {
                    for (int j = j0; j < j1; j++) {
                        dx[dst + j * g.stride()] += dcols[o + j];
                    }
                }
            }
        }
    }

    /** The oracle of {@link #col2im}, on the calling thread. */
    public static void col2imScalar(float[] dx, int dxOff, float[] dcols, int colsOff, ConvShape g) {
        int khw = g.kh() * g.kw();
        for (int ex = 0; ex < g.n(); ex++) {
            for (int c = 0; c < g.cin(); c++) {
                for (int uv = 0; uv < khw; uv++) {
                    int u = uv / g.kw();
                    int v = uv % g.kw();
                    for (int i = 0; i < g.ho(); i++) {
                        for (int j = 0; j < g.wo(); j++) {
                            int row = i * g.stride() + u - g.padding();
                            int col = j * g.stride() + v - g.padding();
                            if (row >= 0 && row < g.h() && col >= 0 && col < g.w()) {
                                dx[dxOff + ex * g.imageSize() + (c * g.h() + row) * g.w() + col] +=
                                        dcols[colsOff + (c * khw + uv) * g.columns() + ex * g.positions()
                                                + i * g.wo() + j];
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code cm[c][n·S + s] = x[n][c][s]}: x (N, C, S) at {@code xOff} to channel-major cm (C, N·S) at cmOff. */
    public static void toChannelMajor(Parallel parallel, float[] cm, int cmOff, float[] x, int xOff, int n, int c,
                                      int s) {
        parallel.forRange(n * c, Math.max(1, GRAIN_FLOATS / s), (from, to) -> {
            for (int nc = from; nc < to; nc++) {
                System.arraycopy(x, xOff + nc * s, cm, cmOff + ((nc % c) * n + nc / c) * s, s);
            }
        });
    }

    /** {@code y[n][c][s] = cm[c][n·S + s]}: the inverse of {@link #toChannelMajor}. */
    public static void fromChannelMajor(Parallel parallel, float[] y, int yOff, float[] cm, int cmOff, int n, int c,
                                        int s) {
        parallel.forRange(n * c, Math.max(1, GRAIN_FLOATS / s), (from, to) -> {
            for (int nc = from; nc < to; nc++) {
                System.arraycopy(cm, cmOff + ((nc % c) * n + nc / c) * s, y, yOff + nc * s, s);
            }
        });
    }

    /**
     * Max pooling of planes {@code [from, to)}: {@code y[pl, i, j] = x[pl, i·s+u, j·s+v]} at the window's first
     * maximum in (u, v) order (a later value wins only when it is greater); x planes (H, W) at {@code xOff}, y planes
     * (Ho, Wo) at {@code yOff}, no padding.
     */
    public static void maxPool(float[] y, int yOff, float[] x, int xOff, int from, int to, int h, int w, int ho,
                               int wo, int kernel, int stride) {
        if (kernel != 2 || stride != 2) {
            maxPoolScalar(y, yOff, x, xOff, from, to, h, w, ho, wo, kernel, stride);
            return;
        }
        if (VECTOR) {
            VectorPool.maxPool(y, yOff, x, xOff, from, to, h, w, ho, wo);
            return;
        }
        for (int pl = from; pl < to; pl++) {
            int src = xOff + pl * h * w;
            int dst = yOff + pl * ho * wo;
            for (int i = 0; i < ho; i++) {
                int top = src + 2 * i * w;
                for (int j = 0; j < wo; j++) {
                    y[dst + i * wo + j] = x[argmax2x2(x, top + 2 * j, w)];
                }
            }
        }
    }

    /** The oracle of {@link #maxPool}: any square window and stride. */
    public static void maxPoolScalar(float[] y, int yOff, float[] x, int xOff, int from, int to, int h, int w,
                                     int ho, int wo, int kernel, int stride) {
        for (int pl = from; pl < to; pl++) {
            for (int i = 0; i < ho; i++) {
                for (int j = 0; j < wo; j++) {
                    y[yOff + (pl * ho + i) * wo + j] = x[argmax(x, xOff + pl * h * w + i * stride * w + j * stride, w,
                            kernel)];
                }
            }
        }
    }

    /**
     * Max pooling's backward over planes {@code [from, to)}: {@code dx[winner] += dy[pl, i, j]} for each window in
     * ascending order, the winner found again from x as {@link #maxPool} chose it; with {@code fresh} each dx plane
     * is zeroed first (a gradient nothing else has written: the bits of zeroing it beforehand, in the same pass).
     */
    public static void maxPoolBackward(float[] dx, int dxOff, boolean fresh, float[] x, int xOff, float[] dy,
                                       int dyOff, int from, int to, int h, int w, int ho, int wo, int kernel,
                                       int stride) {
        boolean twoByTwo = kernel == 2 && stride == 2;
        if (twoByTwo && VECTOR) {
            VectorPool.maxPoolBackward(dx, dxOff, fresh, x, xOff, dy, dyOff, from, to, h, w, ho, wo);
            return;
        }
        for (int pl = from; pl < to; pl++) {
            if (fresh) {
                Arrays.fill(dx, dxOff + pl * h * w, dxOff + (pl + 1) * h * w, 0f);
            }
            int src = xOff + pl * h * w;
            int g = dyOff + pl * ho * wo;
            for (int i = 0; i < ho; i++) {
                int top = src + i * stride * w;
                for (int j = 0; j < wo; j++) {
                    int at = top + j * stride;
                    int winner = twoByTwo ? argmax2x2(x, at, w) : argmax(x, at, w, kernel);
                    dx[winner - xOff + dxOff] += dy[g + i * wo + j];
                }
            }
        }
    }

    /** Index of the first maximum of the kernel×kernel window starting at {@code at}, in (u, v) order. */
    private static int argmax(float[] x, int at, int w, int kernel) {
        int best = at;
        float bv = x[best];
        for (int u = 0; u < kernel; u++) {
            int row = at + u * w;
            for (int v = 0; v < kernel; v++) {
                if (x[row + v] > bv) {
                    bv = x[row + v];
                    best = row + v;
                }
            }
        }
        return best;
    }

    /** {@link #argmax} of a 2×2 window, unrolled: the same comparisons in the same order. */
    private static int argmax2x2(float[] x, int at, int w) {
        int best = at;
        float bv = x[at];
        if (x[at + 1] > bv) {
            bv = x[at + 1];
            best = at + 1;
        }
        if (x[at + w] > bv) {
            bv = x[at + w];
            best = at + w;
        }
        if (x[at + w + 1] > bv) {
            best = at + w + 1;
        }
        return best;
    }
}
