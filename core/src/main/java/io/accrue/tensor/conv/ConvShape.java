package io.accrue.tensor.conv;

/**
 * The geometry of a 2-D convolution over a micro-batch: x (N, Cin, H, W), a (KH, KW) kernel {@code stride} apart
 * with {@code padding} zeros on each side, output (N, Cout, Ho, Wo) with {@code Ho = (H + 2p − KH)/s + 1}. Its
 * im2col matrix is (Cin·KH·KW, N·Ho·Wo): row (c, u, v), column (n, i, j).
 */
public record ConvShape(int n, int cin, int h, int w, int kh, int kw, int ho, int wo, int stride, int padding) {

    /** Output size along one axis, {@code (in + 2·padding − kernel)/stride + 1}, or 0 when the kernel does not fit. */
    public static int outputSize(int in, int kernel, int stride, int padding) {
        int span = in + 2 * padding - kernel;
        return span < 0 ? 0 : span / stride + 1;
    }

    /** This geometry for the first {@code examples} examples (a chunk of the micro-batch). */
    public ConvShape first(int examples) {
        return examples == n ? this : new ConvShape(examples, cin, h, w, kh, kw, ho, wo, stride, padding);
    }

    /** Rows of the im2col matrix: Cin·KH·KW. */
    public int rows() {
        return cin * kh * kw;
    }

    /** Output positions of one example: Ho·Wo. */
    public int positions() {
        return ho * wo;
    }

    /** Columns of the im2col matrix: N·Ho·Wo. */
    public int columns() {
        return n * ho * wo;
    }

    /** Floats of one input image: Cin·H·W. */
    public int imageSize() {
        return cin * h * w;
    }

    /** First output column j whose input column {@code j·s + v − p} is ≥ 0. */
    int firstInside(int v) {
        int need = padding - v; // j·s ≥ p − v
        return need <= 0 ? 0 : Math.min(wo, (need + stride - 1) / stride);
    }

    /** One past the last output column j whose input column {@code j·s + v − p} is < W. */
    int endInside(int v) {
        int room = w - 1 + padding - v; // j·s ≤ W − 1 + p − v
        return room < 0 ? 0 : Math.min(wo, room / stride + 1);
    }
}
