package io.accrue.models;

import io.accrue.autograd.Tape;
import io.accrue.tensor.Tensor;
import io.accrue.tensor.attention.AttentionKernels;

/**
 * The keys and values of S sequences in every layer of a {@link Gpt}, for up to {@link #capacity()} positions per
 * sequence: with them a new position costs one row of each layer instead of a forward pass over its prefix.
 *
 * <p>Storage comes from the tape's arena, once: a decoder releases each pass's activations back to a mark after the
 * cache ({@link Tape#resetTo}, as {@link Decoding} does). Per layer, sequence and head the keys are held
 * transposed, Kᵀ (HS, capacity + 16), and the values as they are, V (capacity, HS): the operands
 * {@link io.accrue.autograd.AttentionOp} builds per (example, head) pair for its products, so a new row's
 * attention is the same kernels on the same values — the same fma chains, the same bits as the full pass.
 */
public final class KvCache {
    /** Extra floats per Kᵀ row, as in AttentionOp: rows a power of two apart would share a few L1 sets. */
    private static final int KEY_ROW_PAD = 16;

    private final GptConfig config;
    private final int sequences;
    private final int capacity;
    private final int keyLd;
    private final Tensor keys; // (L·S·NH, HS·keyLd): Kᵀ per (layer, sequence, head)
    private final Tensor values; // (L·S·NH, capacity·HS): V per (layer, sequence, head)
    private final int[] lengths;

    /** An empty cache of {@code sequences} sequences of up to {@code capacity} ≤ T positions, from the tape's arena. */
    public KvCache(Tape tape, GptConfig config, int sequences, int capacity) {
        if (sequences < 1 || capacity < 1 || capacity > config.context()) {
            throw new IllegalArgumentException("a key/value cache needs at least one sequence and a capacity in [1, "
                    + config.context() + "] (the context), got " + sequences + " sequences of " + capacity);
        }
        this.config = config;
        this.sequences = sequences;
        this.capacity = capacity;
        this.keyLd = capacity + KEY_ROW_PAD;
        int heads = config.layers() * sequences * config.heads();
        int hs = config.width() / config.heads();
        this.keys = tape.scratch(heads, hs * keyLd);
        this.values = tape.scratch(heads, capacity * hs);
        this.lengths = new int[sequences];
    }

    public int capacity() {
        return capacity;
    }

    public int sequences() {
        return sequences;
    }

    /** Positions of sequence {@code s} held so far. */
    public int length(int s) {
        return lengths[s];
    }

    /**
     * Claims the next position of sequence {@code sequences[r]} for each row r, in row order, and returns them: the
     * positions the rows' keys and values go to in every layer.
     */
    int[] append(int[] sequences) {
        int[] positions = new int[sequences.length];
        for (int r = 0; r < sequences.length; r++) {
            int s = sequences[r];
            if (s < 0 || s >= this.sequences) {
                throw new IllegalArgumentException("row " + r + " names sequence " + s + ", outside [0, "
                        + this.sequences + ")");
            }
            if (lengths[s] == capacity) {
                throw new IllegalArgumentException("sequence " + s + " is full: the cache holds " + capacity
                        + " positions");
            }
            positions[r] = lengths[s]++;
        }
        return positions;
    }

    /**
     * Causal self-attention of new rows in layer {@code layer}: stores each row's key and value at its position, then
     * {@code y[r] = Σ_{p ≤ pos[r]} softmax_p(q[r]·k[p] / √HS) · v[p]} per head over its sequence's cached positions.
     * qkv (R, 3C) as AttentionOp splits it (q, k, v; head h at columns [h·HS, (h+1)·HS)); returns y (R, C).
     */
    Tensor attend(Tape tape, int layer, Tensor qkv, int[] sequences, int[] positions) {
        int rows = sequences.length;
        int c = config.width();
        int heads = config.heads();
        int hs = c / heads;
        // the scale of AttentionOp, to the bit
        float scale = (float) (1.0 / Math.sqrt(hs));
        Tensor y = tape.output(rows, c); // (R, C)
        int pairs = rows * heads;
        int parts = Math.min(pairs, tape.compute().threads());
        // per part: the attention row of the pair in hand, then the softmax's two statistics (not needed here)
        int rowFloats = capacity + 2;
        Tensor scores = tape.scratch(parts, rowFloats);
        if (tape.planning()) {
            return y;
        }
        for (int r = 0; r < rows; r++) {
            store(layer, qkv, r, sequences[r], positions[r]);
        }
        float[] q = qkv.data();
        float[] k = keys.data();
        float[] v = values.data();
        float[] p = scores.data();
        tape.compute().parallel().forParts(pairs, 1, (part, from, to) -> {
            int po = scores.offset() + part * rowFloats;
            for (int pair = from; pair < to; pair++) {
                int r = pair / heads;
                int h = pair % heads;
                int len = positions[r] + 1;
                int head = slot(layer, sequences[r], h);
                int qo = qkv.offset() + r * 3 * c + h * hs;
                // s = q·Kᵀ over the positions so far, one fma chain per score along the head's features
                AttentionKernels.multiply(p, po, len, false, q, qo, 3 * c, 1, k, keys.offset() + head * hs * keyLd,
                        keyLd, 1, len, hs, AttentionKernels.FULL, 0);
                AttentionKernels.softmaxRow(p, po, len, len, scale, p, po + capacity);
                // y = p·V: the full pass runs the same chain on to its row block's end over zero probabilities
                AttentionKernels.multiply(y.data(), y.offset() + r * c + h * hs, c, false, p, po, len, 1, v,
                        values.offset() + head * capacity * hs, hs, 1, hs, len, AttentionKernels.FULL, 0);
            }
        });
        return y;
    }

    /** Writes row r's key (transposed) and value, every head, at {@code position} of sequence {@code s}. */
    private void store(int layer, Tensor qkv, int r, int s, int position) {
        int c = config.width();
        int hs = c / config.heads();
        float[] in = qkv.data();
        for (int h = 0; h < config.heads(); h++) {
            int head = slot(layer, s, h);
            int ko = qkv.offset() + r * 3 * c + c + h * hs;
            int kt = keys.offset() + head * hs * keyLd + position;
            for (int d = 0; d < hs; d++) {
                keys.data()[kt + d * keyLd] = in[ko + d];
            }
            System.arraycopy(in, ko + c, values.data(), values.offset() + (head * capacity + position) * hs, hs);
        }
    }

    private int slot(int layer, int s, int h) {
        return (layer * sequences + s) * config.heads() + h;
    }
}
