package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.attention.AttentionKernels;

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
 * Kᵀ and a copy of V in forward; Vᵀ, dS (T, T) and copies of K, Q and dY in backward.
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
        Tensor tmp = tape.scratch(parts, s.forwardScratch()); // per part: Kᵀ and V of the pair in hand
        if (qkv.requiresGrad()) {
            tape.record(() -> backward(tape, s, y, qkv, att));
        }
        if (tape.planning()) {
            return y;
        }
        AttentionKernels kernels = tape.compute().attention();
        tape.compute().parallel().forParts(pairs, 1, (part, from, to) -> {
            int wo = tmp.offset() + part * s.forwardScratch();
            for (int pair = from; pair < to; pair++) {
                forwardPair(s, pair / heads, pair % heads, y, qkv, att, tmp.data(), wo, kernels, part);
            }
        });
        return y;
    }

    /**
     * Floats per thread part of the forward's scratch: Kᵀ (HS rows of {@link #transposedLd}) and V (T, HS).
     */
    public static long forwardScratchFloats(int t, int hs) {
        return (long) hs * transposedLd(t) + (long) t * hs;
    }

    /** Floats per thread part of the backward's scratch: Vᵀ, dS (T, T), and K, Q and dY of the head (T, HS). */
    public static long backwardScratchFloats(int t, int hs) {
        return (long) hs * transposedLd(t) + (long) t * t + 3L * t * hs;
    }

    /**
     * Row length of a transposed head (Kᵀ, Vᵀ): T plus one cache line. At a power-of-two T (256: rows 1 KB apart) a
     * column of the transpose would fall into the same few L1 sets.
     */
    private static int transposedLd(int t) {
        return t + 16;
    }

    /**
     * Columns of row t of P and dS (T×T) that are written, the rest never being written or read: up to the next
     * multiple of {@link AttentionKernels#NR} past the diagonal. S's causal columns reach no further, the products
     * that read P and dS read at most {@link AttentionKernels#MR} − 1 zeros past it (their row blocks), and softmax's
     * ragged tail vector fits. Zeroing whole rows of T would write T² zeros per (example, head) into P, which is
     * stored for the backward and so is new memory for every head.
     */
    private static int rowWidth(int t, int tLen) {
        return Math.min(tLen, (t + AttentionKernels.NR) / AttentionKernels.NR * AttentionKernels.NR);
    }

    /** Sizes of one call: B, T, C, NH and the derived head size HS and scale 1/√HS. */
    private record Shape(int b, int t, int c, int heads, int hs, float scale) {
        Shape(int b, int t, int c, int heads) {
            this(b, t, c, heads, c / heads, (float) (1.0 / Math.sqrt(c / heads)));
        }

        int forwardScratch() {
            return Math.toIntExact(forwardScratchFloats(t, hs));
        }

        int backwardScratch() {
            return Math.toIntExact(backwardScratchFloats(t, hs));
        }
    }

    private static void forwardPair(Shape s, int b, int h, Tensor y, Tensor qkv, Tensor att, float[] w, int wo,
                                    AttentionKernels kernels, int part) {
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
        int ld = transposedLd(tLen);
        int kto = wo; // Kᵀ (HS, T)
        int vco = wo + hs * ld; // V (T, HS)
        kernels.transpose(part, w, kto, ld, in, ko, c3, tLen, hs);
        // The products' B operands are read row after row for every block of output rows: copied together, a
        // head's rows are one stream instead of T rows 3C apart.
        AttentionKernels.copy(w, vco, hs, in, vo, c3, tLen, hs);
        // S = Q·Kᵀ, lower triangle (each S[t][j] one fma chain over the head's features)
        AttentionKernels.multiply(a, ao, tLen, false, in, qo, c3, 1, w, kto, ld, tLen, tLen, hs,
                AttentionKernels.CAUSAL_COLUMNS);
        for (int t = 0; t < tLen; t++) {
            AttentionKernels.softmaxRow(a, ao + t * tLen, t + 1, rowWidth(t, tLen), s.scale());
        }
        // Y = P·V (P is zero above the diagonal)
        AttentionKernels.multiply(y.data(), yo, c, false, a, ao, tLen, 1, w, vco, hs, tLen, hs, tLen,
                AttentionKernels.LOWER);
    }

    private static void backward(Tape tape, Shape s, Tensor y, Tensor qkv, Tensor att) {
        Tensor dy = tape.grad(y); // (B, T, C)
        // (B, T, 3C); every element is written by one of dQ, dK and dV, so a fresh gradient needs no zeroing
        Tensor fresh = tape.freshGrad(qkv);
        Tensor dqkv = fresh != null ? fresh : tape.grad(qkv);
        boolean accumulate = fresh == null;
        int pairs = s.b() * s.heads();
        int parts = Math.min(pairs, tape.compute().threads());
        int per = s.backwardScratch();
        Tensor tmp = tape.scratch(parts, per); // per part: Vᵀ, dS, K, Q and dY of the pair in hand
        if (tape.planning()) {
            return;
        }
        AttentionKernels kernels = tape.compute().attention();
        tape.compute().parallel().forParts(pairs, 1, (part, from, to) -> {
            int wo = tmp.offset() + part * per;
            for (int pair = from; pair < to; pair++) {
                backwardPair(s, pair / s.heads(), pair % s.heads(), dy, dqkv, accumulate, qkv, att, tmp.data(), wo,
                        kernels, part);
            }
        });
    }

    private static void backwardPair(Shape s, int b, int h, Tensor dy, Tensor dqkv, boolean accumulate,
                                     Tensor qkv, Tensor att, float[] w, int wo, AttentionKernels kernels, int part) {
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
        int ld = transposedLd(tLen);
        int vto = wo; // Vᵀ (HS, T)
        int dso = vto + hs * ld; // dP, then dS (T, T)
        int kco = dso + tLen * tLen; // K, Q and dY (T, HS) each
        int qco = kco + tLen * hs;
        int gyco = qco + tLen * hs;
        kernels.transpose(part, w, vto, ld, in, vo, c3, tLen, hs);
        AttentionKernels.copy(w, kco, hs, in, ko, c3, tLen, hs);
        AttentionKernels.copy(w, qco, hs, in, qo, c3, tLen, hs);
        AttentionKernels.copy(w, gyco, hs, gy, gyo, c, tLen, hs);
        // dP = dY·Vᵀ (lower triangle)
        AttentionKernels.multiply(w, dso, tLen, false, gy, gyo, c, 1, w, vto, ld, tLen, tLen, hs,
                AttentionKernels.CAUSAL_COLUMNS);
        // softmax backward per row; dS is zero above the diagonal
        for (int t = 0; t < tLen; t++) {
            AttentionKernels.softmaxBackwardRow(w, dso + t * tLen, a, ao + t * tLen, t + 1, rowWidth(t, tLen),
                    s.scale());
        }
        // dV += Pᵀ·dY: row j sums over t ≥ j, ascending
        AttentionKernels.multiply(g, gvo, c3, accumulate, a, ao, 1, tLen, w, gyco, hs, tLen, hs, tLen,
                AttentionKernels.UPPER);
        // dQ += dS·K: row t sums over j ≤ t, ascending
        AttentionKernels.multiply(g, gqo, c3, accumulate, w, dso, tLen, 1, w, kco, hs, tLen, hs, tLen,
                AttentionKernels.LOWER);
        // dK += dSᵀ·Q: row j sums over t ≥ j, ascending
        AttentionKernels.multiply(g, gko, c3, accumulate, w, dso, 1, tLen, w, qco, hs, tLen, hs, tLen,
                AttentionKernels.UPPER);
    }
}
