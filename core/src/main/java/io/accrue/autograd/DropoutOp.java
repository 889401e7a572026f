package io.accrue.autograd;

import io.accrue.tensor.KeyedRandom;
import io.accrue.tensor.Tensor;

/**
 * Inverted dropout with a keyed mask (law 5): element (r, c) is dropped when
 * {@code unitFloat(hash(seed, epoch << 32 | layer, rowKeys[r], c)) < p}, else scaled: {@code y = x·(1/(1−p))}.
 *
 * <p>{@code rowKeys[r]} names the row globally (e.g. exampleIndex·T + t), so an example gets the same mask in a
 * micro-batch of any size and at any position; the epoch is the tape's ({@link Tape#epoch()}), so the same example
 * gets a fresh mask in the next epoch (epoch 0 keys as {@code layer} alone). The mask is not stored: backward recomputes it from the keys
 * ({@code dx += dy·(1/(1−p))} on kept elements), so {@code rowKeys} must not be modified before backward has
 * run. In eval mode or with p = 0 the op is the identity: it returns x itself and records nothing.
 */
public final class DropoutOp {
    private DropoutOp() {
    }

    public static Tensor forward(Tape tape, Tensor x, float p, long seed, int layer, long[] rowKeys) {
        if (!(p >= 0f && p < 1f)) {
            throw new IllegalArgumentException("dropout: p = " + p + " is outside [0, 1)");
        }
        if (!tape.training() || p == 0f) {
            return x;  // identity: rowKeys may be null here
        }
        int rows = x.rows();
        int c = x.cols();
        if (rowKeys == null || rowKeys.length != rows) {
            throw new IllegalArgumentException("dropout: " + (rowKeys == null ? "no" : rowKeys.length)
                    + " row keys for " + rows + " rows of " + x);
        }
        float scale = 1f / (1f - p);
        long site = site(tape.epoch(), layer);
        Tensor y = tape.output(x.shape()); // (rows, C)
        if (x.requiresGrad()) {
            tape.record(() -> backward(tape, x, y, p, scale, seed, site, rowKeys));
        }
        if (tape.planning()) {
            return y;
        }
        float[] xd = x.data();
        float[] yd = y.data();
        int xo = x.offset();
        int yo = y.offset();
        tape.compute().parallel().forRange(rows, Math.max(1, AddOp.GRAIN / 8 / c), (from, to) -> {
            for (int r = from; r < to; r++) {
                long key = rowKeys[r];
                int base = r * c;
                for (int j = 0; j < c; j++) {
                    yd[yo + base + j] = kept(seed, site, key, j, p) ? xd[xo + base + j] * scale : 0f;
                }
            }
        });
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor y, float p, float scale, long seed, long site,
                                 long[] rowKeys) {
        Tensor dy = tape.grad(y);
        Tensor dx = tape.grad(x);
        if (tape.planning()) {
            return;
        }
        int rows = x.rows();
        int c = x.cols();
        float[] gy = dy.data();
        float[] gx = dx.data();
        int gyo = dy.offset();
        int gxo = dx.offset();
        tape.compute().parallel().forRange(rows, Math.max(1, AddOp.GRAIN / 8 / c), (from, to) -> {
            for (int r = from; r < to; r++) {
                long key = rowKeys[r];
                int base = r * c;
                for (int j = 0; j < c; j++) {
                    if (kept(seed, site, key, j, p)) {
                        gx[gxo + base + j] += gy[gyo + base + j] * scale;
                    }
                }
            }
        });
    }

    /** The key of dropout layer {@code layer} in {@code epoch}: {@code epoch << 32 | layer} (layer ≥ 0). */
    public static long site(int epoch, int layer) {
        return (long) epoch << 32 | (layer & 0xFFFF_FFFFL);
    }

    /**
     * Whether element (rowKey, column) of dropout site {@code site} ({@link #site(int, int)}) survives: a pure
     * function of its key.
     */
    public static boolean kept(long seed, long site, long rowKey, int column, float p) {
        return !(KeyedRandom.unitFloat(KeyedRandom.hash(seed, site, rowKey, column)) < p);
    }
}
