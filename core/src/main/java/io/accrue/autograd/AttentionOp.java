package io.accrue.autograd;

import io.accrue.tensor.AttentionKernels;
import io.accrue.tensor.Tensor;

/**
 * Causal multi-head self-attention as in GPT-2: qkv (B, T, 3C) splits along the last dimension into q, k, v
 * (in that order), each head h takes columns {@code [h·HS, (h+1)·HS)} with C = NH·HS, and
 * {@code y[t] = Σ_{t2 ≤ t} softmax_t2(q[t]·k[t2] / √HS) · v[t2]}; y (B, T, C) holds the heads side by side.
 *
 * <p>Forward saves the attention probabilities P (B, NH, T, T) (zero above the diagonal) for backward.
 * Per (example, head) pair: {@code S = Q·Kᵀ} (lower triangle), {@code P = softmax(S/√HS)} per row,
 * {@code Y = P·V}. Backward, per pair: {@code dP = dY·Vᵀ}, {@code dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √HS},
 * {@code dV += Pᵀ·dY}, {@code dQ += dS·K}, {@code dK += dSᵀ·Q}. The products are the register-blocked
 * {@link AttentionKernels#multiply} (each output one fma chain in ascending order, from the gradient's value
 * for the += forms), the rows {@link AttentionKernels#softmaxRow} and
 * {@link AttentionKernels#softmaxBackwardRow} (fixed-order sums). Every pair is computed by one thread from that
 * example's rows only, in an order fixed by T and HS, so an example's output and gradient have the same bits for
 * any batch size, position in the batch and thread count. Scratch per thread part (from the tape's arena):
 * Kᵀ (HS, T) in forward; Vᵀ (HS, T) and dS (T, T) in backward.
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
        int pairs = b * heads;
        int parts = Math.min(pairs, tape.compute().threads());
        Tensor kt = tape.scratch(parts, s.hs() * t); // (parts, HS·T) Kᵀ of the pair in hand
        tape.compute().parallel().forParts(pairs, 1, (part, from, to) -> {
            int ko = kt.offset() + part * s.hs() * t;
            for (int pair = from; pair < to; pair++) {
                forwardPair(s, pair / heads, pair % heads, y, qkv, att, kt.data(), ko);
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

    private static void forwardPair(Shape s, int b, int h, Tensor y, Tensor qkv, Tensor att, float[] kt, int kto) {
        int tLen = s.t();
        int c = s.c();
        int hs = s.hs();
        int c3 = 3 * c;
        float[] in = qkv.data();
        float[] a = att.data();
        int row0 = qkv.offset() + b * tLen * c3; // row t of example b starts at row0 + t·3C
        int qo = row0 + h * hs;
        int ko = qo + c;
        int vo = qo + 2 * c;
        int ao = att.offset() + (b * s.heads() + h) * tLen * tLen;
        int yo = y.offset() + b * tLen * c + h * hs;
        AttentionKernels.transpose(kt, kto, tLen, in, ko, c3, tLen, hs); // Kᵀ (HS, T)
        // S = Q·Kᵀ, lower triangle (each S[t][j] one fma chain over the head's features)
        AttentionKernels.multiply(a, ao, tLen, false, in, qo, c3, 1, kt, kto, tLen, tLen, tLen, hs,
                AttentionKernels.CAUSAL_COLUMNS);
        for (int t = 0; t < tLen; t++) {
            AttentionKernels.softmaxRow(a, ao + t * tLen, t + 1, tLen, s.scale());
        }
        // Y = P·V (P is zero above the diagonal)
        AttentionKernels.multiply(y.data(), yo, c, false, a, ao, tLen, 1, in, vo, c3, tLen, hs, tLen,
                AttentionKernels.LOWER);
    }

    private static void backward(Tape tape, Shape s, Tensor y, Tensor qkv, Tensor att) {
        Tensor dy = tape.grad(y); // (B, T, C)
        Tensor dqkv = tape.grad(qkv); // (B, T, 3C)
        int pairs = s.b() * s.heads();
        int parts = Math.min(pairs, tape.compute().threads());
        int per = s.hs() * s.t() + s.t() * s.t();
        Tensor tmp = tape.scratch(parts, per); // (parts, HS·T + T·T): Vᵀ and dS of the pair in hand
        tape.compute().parallel().forParts(pairs, 1, (part, from, to) -> {
            int wo = tmp.offset() + part * per;
            for (int pair = from; pair < to; pair++) {
                backwardPair(s, pair / s.heads(), pair % s.heads(), dy, dqkv, qkv, att, tmp.data(), wo);
            }
        });
    }

    private static void backwardPair(Shape s, int b, int h, Tensor dy, Tensor dqkv, Tensor qkv, Tensor att,
                                     float[] w, int wo) {
        int tLen = s.t();
        int c = s.c();
        int hs = s.hs();
        int c3 = 3 * c;
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
        int vto = wo; // Vᵀ (HS, T)
        int dso = wo + hs * tLen; // dP, then dS (T, T)
        AttentionKernels.transpose(w, vto, tLen, in, vo, c3, tLen, hs);
        // dP = dY·Vᵀ (lower triangle)
        AttentionKernels.multiply(w, dso, tLen, false, gy, gyo, c, 1, w, vto, tLen, tLen, tLen, hs,
                AttentionKernels.CAUSAL_COLUMNS);
        // softmax backward per row; dS is zero above the diagonal
        for (int t = 0; t < tLen; t++) {
            AttentionKernels.softmaxBackwardRow(w, dso + t * tLen, a, ao + t * tLen, t + 1, tLen, s.scale());
        }
        // dV += Pᵀ·dY: row j sums over t ≥ j, ascending
        AttentionKernels.multiply(g, gvo, c3, true, a, ao, 1, tLen, gy, gyo, c, tLen, hs, tLen,
                AttentionKernels.UPPER);
        // dQ += dS·K: row t sums over j ≤ t, ascending
        AttentionKernels.multiply(g, gqo, c3, true, w, dso, tLen, 1, in, ko, c3, tLen, hs, tLen,
                AttentionKernels.LOWER);
        // dK += dSᵀ·Q: row j sums over t ≥ j, ascending
        AttentionKernels.multiply(g, gko, c3, true, w, dso, 1, tLen, in, qo, c3, tLen, hs, tLen,
                AttentionKernels.UPPER);
    }
}
