package io.accrue.autograd;

import java.util.Arrays;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.attention.AttentionKernels;

/**
 * Causal multi-head self-attention as in GPT-2: qkv (B, T, 3C) splits along the last dimension into q, k, v
 * (in that order), each head h takes columns {@code [h·HS, (h+1)·HS)} with C = NH·HS, and
 * {@code y[t] = Σ_{t2 ≤ t} softmax_t2(q[t]·k[t2] / √HS) · v[t2]}; y (B, T, C) holds the heads side by side.
 *
 * <p>No (T, T) matrix is stored: per (example, head) pair the rows of queries are taken in blocks of {@link #ROWS}.
 * Forward, per block: {@code S = Q·Kᵀ} (its causal columns), {@code P = softmax(S/√HS)} per row, {@code Y = P·V};
 * each row's max and 1/Σ (its log-sum-exp in two parts) are saved, (B, NH, T, 2). Backward recomputes the block's
 * P from S and those two numbers — the forward's bits — then {@code dP = dY·Vᵀ},
 * {@code dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √HS}, {@code dQ += dS·K}, and adds the block's share to
 * {@code dV += Pᵀ·dY} and {@code dK += dSᵀ·Q}. The products are the register-blocked
 * {@link AttentionKernels#multiply}, whose bands keep each output's p range of the whole matrix, so every output is
 * one fma chain in ascending order (dK's and dV's rows continue theirs block after block, through the gradient:
 * storing and reloading a float is exact); the rows are {@link AttentionKernels#softmaxRow},
 * {@link AttentionKernels#probabilityRow} and {@link AttentionKernels#softmaxBackwardRow} (fixed-order sums). The
 * results have the bits of the untiled computation, for any block size. Every pair is computed by one thread
 * from that example's rows only, in an order fixed by T and HS, so an example's output and gradient have the
 * same bits for any batch size, position in the batch and thread count. Scratch per thread part (from the tape's
 * arena): Kᵀ, a copy of V and one block's S in forward; Kᵀ, Vᵀ, copies of K, Q and dY, one block's P and dS in
 * backward.
 */
public final class AttentionOp {
    /**
     * Query rows per block: a multiple of 8 (the products' paired row blocks). One block's scores, 64 rows of T,
     * stay in L2 between the product that writes them and the ones that read them.
     */
    static final int ROWS = 64;

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
        Tensor stats = tape.scratch(b, heads, t, 2); // (B, NH, T, 2): each row's max and 1/Σ
        Shape s = new Shape(b, t, c, heads);
        int pairs = b * heads;
        int parts = Math.min(pairs, tape.compute().threads());
        Tensor tmp = tape.scratch(parts, s.forwardScratch()); // per part: Kᵀ, V and S of the pair in hand
        if (qkv.requiresGrad()) {
            tape.record(() -> backward(tape, s, y, qkv, stats));
        }
        if (tape.planning()) {
            return y;
        }
        AttentionKernels kernels = tape.compute().attention();
        tape.compute().parallel().forParts(pairs, 1, (part, from, to) -> {
            int wo = tmp.offset() + part * s.forwardScratch();
            for (int pair = from; pair < to; pair++) {
                forwardPair(s, pair / heads, pair % heads, y, qkv, stats, tmp.data(), wo, kernels, part);
            }
        });
        return y;
    }

    /**
     * Floats per thread part of the forward's scratch: Kᵀ (HS rows of {@link #ld}), V (T, HS) and a block's S
     * ({@link #blockRows} rows of ld).
     */
    public static long forwardScratchFloats(int t, int hs) {
        return (long) hs * ld(t) + (long) t * hs + (long) blockRows(t) * ld(t);
    }

    /**
     * Floats per thread part of the backward's scratch: Kᵀ and Vᵀ, K, Q and dY of the head (T, HS), P and dS of a
     * block ({@link #blockRows} rows of ld each).
     */
    public static long backwardScratchFloats(int t, int hs) {
        return 2L * hs * ld(t) + 3L * t * hs + 2L * blockRows(t) * ld(t);
    }

    /** Rows of a block's scores: {@link #ROWS}, or T when shorter. */
    private static int blockRows(int t) {
        return Math.min(ROWS, t);
    }

    /**
     * Row length of a transposed head (Kᵀ, Vᵀ) and of a block's scores: T plus one cache line. At a power-of-two T
     * (256: rows 1 KB apart) a column would fall into the same few L1 sets.
     */
    private static int ld(int t) {
        return t + 16;
    }

    /**
     * Columns of row t of P and dS that are written, the rest never being written or read: up to the next multiple
     * of {@link AttentionKernels#NR} past the diagonal. S's causal columns reach no further, the products that read P
     * and dS read at most {@link AttentionKernels#MR} − 1 zeros past it (their row blocks), and softmax's ragged tail
     * vector fits.
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

    /**
     * Where a head's rows start in the flat arrays: row t of its Q, K and V at {@code q + t·3C}, {@code k + t·3C},
     * {@code v + t·3C} (of qkv or its gradient), of its output at {@code y + t·C} (y or dy), its saved statistics at
     * {@code stats + 2t}.
     */
    private record Head(int q, int k, int v, int y, int stats) {
        static Head of(Shape s, int b, int h, Tensor qkv, Tensor y, Tensor stats) {
            int q = qkv.offset() + b * s.t() * 3 * s.c() + h * s.hs();
            return new Head(q, q + s.c(), q + 2 * s.c(), y.offset() + b * s.t() * s.c() + h * s.hs(),
                    stats.offset() + (b * s.heads() + h) * s.t() * 2);
        }
    }

    private static void forwardPair(Shape s, int b, int h, Tensor y, Tensor qkv, Tensor stats, float[] w, int wo,
                                    AttentionKernels kernels, int part) {
        int tLen = s.t();
        int hs = s.hs();
        int c3 = 3 * s.c();
        float[] in = qkv.data();
        Head at = Head.of(s, b, h, qkv, y, stats);
        int ld = ld(tLen);
        int kto = wo; // Kᵀ (HS, T)
        int vco = kto + hs * ld; // V (T, HS)
        int so = vco + tLen * hs; // S, then P, of a block (ROWS, T)
        kernels.transpose(part, w, kto, ld, in, at.k(), c3, tLen, hs);
        // The products' B operands are read row after row for every block of output rows: copied together, a
        // head's rows are one stream instead of T rows 3C apart.
        AttentionKernels.copy(w, vco, hs, in, at.v(), c3, tLen, hs);
        for (int r0 = 0; r0 < tLen; r0 += ROWS) {
            int rows = Math.min(ROWS, tLen - r0);
            scores(s, w, so, ld, in, at.q() + r0 * c3, w, kto, r0, rows);
            for (int t = r0; t < r0 + rows; t++) {
                AttentionKernels.softmaxRow(w, so + (t - r0) * ld, t + 1, rowWidth(t, tLen), s.scale(),
                        stats.data(), at.stats() + 2 * t);
            }
            // Y = P·V (P is zero above the diagonal)
            AttentionKernels.multiply(y.data(), at.y() + r0 * s.c(), s.c(), false, w, so, ld, 1, w, vco, hs, rows,
                    hs, tLen, AttentionKernels.LOWER, r0);
        }
    }

    /** {@code S = Q·Kᵀ} of rows [r0, r0 + rows) into (rows, ld), their causal columns (each one fma chain). */
    private static void scores(Shape s, float[] dst, int dOff, int ld, float[] q, int qOff, float[] kt, int ktOff,
                               int r0, int rows) {
        AttentionKernels.multiply(dst, dOff, ld, false, q, qOff, 3 * s.c(), 1, kt, ktOff, ld, rows, s.t(), s.hs(),
                AttentionKernels.CAUSAL_COLUMNS, r0);
    }

    private static void backward(Tape tape, Shape s, Tensor y, Tensor qkv, Tensor stats) {
        Tensor dy = tape.grad(y); // (B, T, C)
        // (B, T, 3C); every element is written by one of dQ, dK and dV, so a fresh gradient needs no zeroing
        Tensor fresh = tape.freshGrad(qkv);
        Tensor dqkv = fresh != null ? fresh : tape.grad(qkv);
        boolean accumulate = fresh == null;
        int pairs = s.b() * s.heads();
        int parts = Math.min(pairs, tape.compute().threads());
        int per = s.backwardScratch();
        Tensor tmp = tape.scratch(parts, per); // per part: Kᵀ, Vᵀ, K, Q, dY, P and dS of the pair in hand
        if (tape.planning()) {
            return;
        }
        AttentionKernels kernels = tape.compute().attention();
        tape.compute().parallel().forParts(pairs, 1, (part, from, to) -> {
            int wo = tmp.offset() + part * per;
            for (int pair = from; pair < to; pair++) {
                backwardPair(s, pair / s.heads(), pair % s.heads(), dy, dqkv, accumulate, qkv, stats, tmp.data(), wo,
                        kernels, part);
            }
        });
    }

    private static void backwardPair(Shape s, int b, int h, Tensor dy, Tensor dqkv, boolean accumulate,
                                     Tensor qkv, Tensor stats, float[] w, int wo, AttentionKernels kernels,
                                     int part) {
        int tLen = s.t();
        int hs = s.hs();
        int c3 = 3 * s.c();
        float[] in = qkv.data();
        float[] g = dqkv.data();
        float[] gy = dy.data();
        Head at = Head.of(s, b, h, qkv, dy, stats);
        int gq = at.q() - qkv.offset() + dqkv.offset(); // the head's dQ, dK and dV: qkv's layout
        int gk = gq + s.c();
        int gv = gk + s.c();
        int ld = ld(tLen);
        int kto = wo; // Kᵀ (HS, T)
        int vto = kto + hs * ld; // Vᵀ (HS, T)
        int kco = vto + hs * ld; // K, Q and dY (T, HS) each
        int qco = kco + tLen * hs;
        int gyco = qco + tLen * hs;
        int po = gyco + tLen * hs; // P of a block (ROWS, T)
        int dso = po + blockRows(tLen) * ld; // dP, then dS, of a block (ROWS, T)
        kernels.transpose(part, w, kto, ld, in, at.k(), c3, tLen, hs);
        kernels.transpose(part, w, vto, ld, in, at.v(), c3, tLen, hs);
        AttentionKernels.copy(w, kco, hs, in, at.k(), c3, tLen, hs);
        AttentionKernels.copy(w, qco, hs, in, at.q(), c3, tLen, hs);
        AttentionKernels.copy(w, gyco, hs, gy, at.y(), s.c(), tLen, hs);
        if (!accumulate) { // dK's and dV's rows take their chains through several blocks: start them at +0
            zeroRows(g, gk, c3, tLen, hs);
            zeroRows(g, gv, c3, tLen, hs);
        }
        for (int r0 = 0; r0 < tLen; r0 += ROWS) {
            int rows = Math.min(ROWS, tLen - r0);
            int r1 = r0 + rows;
            scores(s, w, po, ld, in, at.q() + r0 * c3, w, kto, r0, rows);
            for (int t = r0; t < r1; t++) {
                AttentionKernels.probabilityRow(w, po + (t - r0) * ld, t + 1, rowWidth(t, tLen), s.scale(),
                        stats.data(), at.stats() + 2 * t);
            }
            // dP = dY·Vᵀ (causal columns)
            AttentionKernels.multiply(w, dso, ld, false, gy, at.y() + r0 * s.c(), s.c(), 1, w, vto, ld, rows, tLen,
                    hs, AttentionKernels.CAUSAL_COLUMNS, r0);
            // softmax backward per row; dS is zero above the diagonal
            for (int t = r0; t < r1; t++) {
                AttentionKernels.softmaxBackwardRow(w, dso + (t - r0) * ld, w, po + (t - r0) * ld, t + 1,
                        rowWidth(t, tLen), s.scale());
            }
            // dV += Pᵀ·dY: row j sums over t ≥ j, ascending, this block's t continuing the earlier blocks'
            AttentionKernels.multiply(g, gv, c3, true, w, po, 1, ld, w, gyco + r0 * hs, hs, r1, hs, rows,
                    AttentionKernels.UPPER, -r0);
            // dQ += dS·K: row t sums over j ≤ t, ascending
            AttentionKernels.multiply(g, gq + r0 * c3, c3, accumulate, w, dso, ld, 1, w, kco, hs, rows, hs,
                    tLen, AttentionKernels.LOWER, r0);
            // dK += dSᵀ·Q: row j sums over t ≥ j, ascending, as dV
            AttentionKernels.multiply(g, gk, c3, true, w, dso, 1, ld, w, qco + r0 * hs, hs, r1, hs, rows,
                    AttentionKernels.UPPER, -r0);
        }
    }

    /** {@code a[off + i·ld + j] = 0} for i in [0, rows), j in [0, cols). */
    private static void zeroRows(float[] a, int off, int ld, int rows, int cols) {
        for (int i = 0; i < rows; i++) {
            Arrays.fill(a, off + i * ld, off + i * ld + cols, 0f);
        }
    }
}
