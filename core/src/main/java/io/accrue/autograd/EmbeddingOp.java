package io.accrue.autograd;

import io.accrue.tensor.Tensor;

/**
 * Row lookup: {@code y[r] = table[ids[r]]}; ids (N), table (V, C), y (N, C). Token embeddings (wte) and
 * position embeddings (wpe, with ids = positions).
 *
 * <p>Backward is a scatter-add, a sum over rows (law 3): {@code dtable[ids[r]][c] += dy[r][c]} for r ascending,
 * continuing from the gradient buffer's value; threads split the C columns, never the rows. So rows cut
 * into micro-batches give the same bits as one call over all rows. {@code ids} is read again by backward:
 * do not modify it before backward has run.
 */
public final class EmbeddingOp {
    private EmbeddingOp() {
    }

    public static Tensor forward(Tape tape, int[] ids, Tensor table) {
        if (table.rank() != 2) {
            throw new IllegalArgumentException("embedding: table must be (V, C), got " + table);
        }
        int n = ids.length;
        int v = table.dim(0);
        int c = table.dim(1);
        if (n == 0) {
            throw new IllegalArgumentException("embedding: no ids");
        }
        for (int r = 0; r < n; r++) {
            if (ids[r] < 0 || ids[r] >= v) {
                throw new IllegalArgumentException("embedding: id " + ids[r] + " at position " + r
                        + " is outside [0, " + v + ") (V = " + v + ")");
            }
        }
        Tensor y = tape.output(n, c); // (N, C)
        if (table.requiresGrad()) {
            tape.record(() -> backward(tape, ids, table, y));
        }
        if (tape.planning()) {
            return y;
        }
        float[] td = table.data();
        float[] yd = y.data();
        int to = table.offset();
        int yo = y.offset();
        tape.compute().parallel().forRange(n, Math.max(1, AddOp.GRAIN / c), (from, end) -> {
            for (int r = from; r < end; r++) {
                System.arraycopy(td, to + ids[r] * c, yd, yo + r * c, c);
            }
        });
        return y;
    }

    private static void backward(Tape tape, int[] ids, Tensor table, Tensor y) {
        Tensor dy = tape.grad(y); // (N, C)
        Tensor dt = tape.grad(table); // (V, C)
        if (tape.planning()) {
            return;
        }
        int n = ids.length;
        int c = table.dim(1);
        float[] gy = dy.data();
        float[] gt = dt.data();
        int gyo = dy.offset();
        int gto = dt.offset();
        // Threads split columns; each column's additions run over rows in ascending order.
        int grain = (long) n * c < AddOp.GRAIN ? c : 64;
        tape.compute().parallel().forRange(c, grain, (from, to) -> {
            for (int r = 0; r < n; r++) {
                int src = gyo + r * c;
                int dst = gto + ids[r] * c;
                for (int j = from; j < to; j++) {
                    gt[dst + j] += gy[src + j];
                }
            }
        });
    }
}
