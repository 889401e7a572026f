package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * Causal multi-head self-attention as in GPT-2: qkv (B, T, 3C) splits along the last dimension into q, k, v
 * (in that order), each head h takes columns {@code [h·HS, (h+1)·HS)} with C = NH·HS, and
 * {@code y[t] = Σ_{t2 ≤ t} softmax_t2(q[t]·k[t2] / √HS) · v[t2]}; y (B, T, C) holds the heads side by side.
 *
 * <p>Forward saves the attention probabilities (B, NH, T, T) (zero above the diagonal) for backward.
 * Every (example, head) pair is computed by one thread from that example's rows only, with dot products and
 * softmax sums in a fixed sequential order, so an example's output has the same bits for any batch size and
 * thread count. Backward, per pair: {@code dv[t2] += Σ_t a[t][t2]·dy[t]},
 * {@code ds[t][t2] = a[t][t2]·(dy[t]·v[t2] − Σ_j a[t][j]·dy[t]·v[j]) / √HS}, {@code dq[t] += Σ_t2 ds·k[t2]},
 * {@code dk[t2] += Σ_t ds·q[t]}; it allocates one scratch row of T per pair (B·NH·T floats).
 */
public final class AttentionOp {
    private AttentionOp() {
    }

    public static Tensor forward(Tape tape, Tensor qkv, int heads) {
        if (qkv.rank() != 3 || qkv.dim(2) % 3 != 0) {
            throw new IllegalArgumentException("attention: qkv must be (B, T, 3C), got " + qkv);
        }
        int c = qkv.dim(2) / 3;
        if (heads < 1 || c % heads != 0) {
            throw new IllegalArgumentException("attention: " + heads + " heads do not divide C = " + c + " of "
                    + qkv);
        }
        int b = qkv.dim(0);
        int t = qkv.dim(1);
        Tensor y = tape.output(b, t, c); // (B, T, C)
        Tensor att = tape.scratch(b, heads, t, t); // (B, NH, T, T)
        Shape s = new Shape(b, t, c, heads);
        tape.compute().parallel().forRange(b * heads, 1, (from, to) -> {
            for (int pair = from; pair < to; pair++) {
                forwardPair(s, pair / heads, pair % heads, y, qkv, att);
            }
        });
        if (qkv.requiresGrad()) {
            tape.record(() -> backward(tape, s, y, qkv, att));
        }
        return y;
    }

    /** Sizes of one call: B, T, C, NH and the derived head size HS and scale 1/√HS. */
    private record Shape(int b, int t, int c, int heads, int hs, float scale) {
        Shape(int b, int t, int c, int heads) {
            this(b, t, c, heads, c / heads, (float) (1.0 / Math.sqrt(c / heads)));
        }
    }

    private static void forwardPair(Shape s, int b, int h, Tensor y, Tensor qkv, Tensor att) {
        int tLen = s.t();
        int c = s.c();
        int hs = s.hs();
        int c3 = 3 * c;
        float scale = s.scale();
        float[] in = qkv.data();
        float[] out = y.data();
        float[] a = att.data();
        int row0 = qkv.offset() + b * tLen * c3; // row t of example b starts at row0 + t·3C
        int qo = row0 + h * hs;
        int ko = qo + c;
        int vo = qo + 2 * c;
        int ao = att.offset() + (b * s.heads() + h) * tLen * tLen;
        int yo = y.offset() + b * tLen * c + h * hs;
        for (int t = 0; t < tLen; t++) {
            int arow = ao + t * tLen;
            dots(a, arow, in, qo + t * c3, in, ko, c3, t + 1, hs);
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j <= t; j++) {
                float sc = a[arow + j] * scale;
                a[arow + j] = sc;
                max = Math.max(max, sc);
            }
            float sum = 0f;
            for (int j = 0; j <= t; j++) {
                float e = (float) Math.exp(a[arow + j] - max);
                a[arow + j] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int j = 0; j <= t; j++) {
                a[arow + j] *= inv;
            }
            for (int j = t + 1; j < tLen; j++) {
                a[arow + j] = 0f;
            }
            int yrow = yo + t * c;
            for (int i = 0; i < hs; i++) {
                out[yrow + i] = 0f;
            }
            for (int j = 0; j <= t; j++) {
                axpy(out, yrow, a[arow + j], in, vo + j * c3, hs);
            }
        }
    }

    private static void backward(Tape tape, Shape s, Tensor y, Tensor qkv, Tensor att) {
        Tensor dy = tape.grad(y); // (B, T, C)
        Tensor dqkv = tape.grad(qkv); // (B, T, 3C)
        Tensor tmp = tape.scratch(s.b() * s.heads(), s.t()); // (B·NH, T) one row of scores' gradient per pair
        tape.compute().parallel().forRange(s.b() * s.heads(), 1, (from, to) -> {
            for (int pair = from; pair < to; pair++) {
                backwardPair(s, pair / s.heads(), pair % s.heads(), dy, dqkv, qkv, att,
                        tmp.offset() + pair * s.t(), tmp.data());
            }
        });
    }

    private static void backwardPair(Shape s, int b, int h, Tensor dy, Tensor dqkv, Tensor qkv, Tensor att,
                                     int wo, float[] w) {
        int tLen = s.t();
        int c = s.c();
        int hs = s.hs();
        int c3 = 3 * c;
        float scale = s.scale();
        float[] in = qkv.data();
        float[] g = dqkv.data();
        float[] gy = dy.data();
        float[] a = att.data();
        int row0 = qkv.offset() + b * tLen * c3;
        int qo = row0 + h * hs;
        int ko = qo + c;
        int vo = qo + 2 * c;
        int grow0 = dqkv.offset() + b * tLen * c3;
        int gqo = grow0 + h * hs;
        int gko = gqo + c;
        int gvo = gqo + 2 * c;
        int ao = att.offset() + (b * s.heads() + h) * tLen * tLen;
        int gyo = dy.offset() + b * tLen * c + h * hs;
        for (int t = 0; t < tLen; t++) {
            int arow = ao + t * tLen;
            int gyrow = gyo + t * c;
            // w[j] = dy[t]·v[j]: gradient of the probability a[t][j]
            dots(w, wo, gy, gyrow, in, vo, c3, t + 1, hs);
            // dv[j] += a[t][j]·dy[t]
            for (int j = 0; j <= t; j++) {
                axpy(g, gvo + j * c3, a[arow + j], gy, gyrow, hs);
            }
            // softmax backward: ds[j] = a[j]·(w[j] − Σ_i a[i]·w[i]), times the score scale
            float dot = 0f;
            for (int j = 0; j <= t; j++) {
                dot = Math.fma(a[arow + j], w[wo + j], dot);
            }
            for (int j = 0; j <= t; j++) {
                w[wo + j] = a[arow + j] * (w[wo + j] - dot) * scale;
            }
            // dq[t] += Σ_j ds[j]·k[j];  dk[j] += ds[j]·q[t]
            int gq = gqo + t * c3;
            int q = qo + t * c3;
            for (int j = 0; j <= t; j++) {
                float ds = w[wo + j];
                axpy(g, gq, ds, in, ko + j * c3, hs);
                axpy(g, gko + j * c3, ds, in, q, hs);
            }
        }
    }

    /**
     * {@code out[outOff + j] = x·m_j} for j in [0, count), x = {@code x[xOff, xOff + n)} and m_j the n floats at
     * {@code m[mOff + j·stride]}. Each dot is one sequential fma chain over i; four are interleaved for
     * instruction-level parallelism, which does not change any result's bits.
     */
    static void dots(float[] out, int outOff, float[] x, int xOff, float[] m, int mOff, int stride, int count,
                     int n) {
        int j = 0;
        for (; j + 4 <= count; j += 4) {
            int m0 = mOff + j * stride;
            int m1 = m0 + stride;
            int m2 = m1 + stride;
            int m3 = m2 + stride;
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            for (int i = 0; i < n; i++) {
                float xi = x[xOff + i];
                s0 = Math.fma(xi, m[m0 + i], s0);
                s1 = Math.fma(xi, m[m1 + i], s1);
                s2 = Math.fma(xi, m[m2 + i], s2);
                s3 = Math.fma(xi, m[m3 + i], s3);
            }
            out[outOff + j] = s0;
            out[outOff + j + 1] = s1;
            out[outOff + j + 2] = s2;
            out[outOff + j + 3] = s3;
        }
        for (; j < count; j++) {
            int mj = mOff + j * stride;
            float s0 = 0f;
            for (int i = 0; i < n; i++) {
                s0 = Math.fma(x[xOff + i], m[mj + i], s0);
            }
            out[outOff + j] = s0;
        }
    }

    /** {@code y[yOff + i] = fma(alpha, x[xOff + i], y[yOff + i])} for i in [0, n). */
    static void axpy(float[] y, int yOff, float alpha, float[] x, int xOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
        }
    }
}
