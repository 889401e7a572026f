package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddingOpTest {

    @Test
    void gradientsMatchFiniteDifferences() {
        Tensor table = GradCheck.random(1, 1f, 5, 3);
        int[] ids = {4, 0, 4, 2, 4, 1};
        GradCheck.check(t -> EmbeddingOp.forward(t, ids, table), List.of(table), 1e-2, 1e-3);
    }

    @Test
    void forwardCopiesRows() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor table = Tensor.of(new float[] {0, 1, 10, 11, 20, 21}, 3, 2);
            Tensor y = EmbeddingOp.forward(tape, new int[] {2, 0, 2}, table);
            assertArrayEquals(new int[] {3, 2}, y.shape());
            assertArrayEquals(new float[] {20, 21, 0, 1, 20, 21}, y.toArray());
        }
    }

    @Test
    void idOutsideVocabularyNamesIdPositionAndV() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> EmbeddingOp.forward(tape, new int[] {1, 2, 7}, Tensor.zeros(5, 3)));
            assertTrue(e.getMessage().contains("id 7") && e.getMessage().contains("position 2")
                    && e.getMessage().contains("5"), e.getMessage());
            var neg = assertThrows(IllegalArgumentException.class,
                    () -> EmbeddingOp.forward(tape, new int[] {-1}, Tensor.zeros(5, 3)));
            assertTrue(neg.getMessage().contains("id -1"), neg.getMessage());
        }
    }

    /** Law 3: 10 rows in one call equal 3 rows then 7 rows into the same buffer, bit for bit, any thread count. */
    @Test
    void scatterAddIsInvariantToSplittingTheRows() {
        int v = 4;
        int c = 300;
        int[] ids = {3, 1, 3, 3, 0, 1, 3, 2, 3, 1};
        Tensor dy = GradCheck.random(11, 1f, ids.length, c);
        Tensor start = GradCheck.random(12, 0.1f, v, c); // gradient buffer already holds earlier micro-batches
        float[] whole = scatter(1, start, new int[][] {ids}, dy);
        float[] split = scatter(2, start, new int[][] {Arrays.copyOfRange(ids, 0, 3), Arrays.copyOfRange(ids, 3, 10)},
                dy);
        assertArrayEquals(bits(whole), bits(split));
        // And it is a sum in row order, starting from the buffer: check against a plain loop.
        float[] expected = start.toArray();
        for (int r = 0; r < ids.length; r++) {
            for (int j = 0; j < c; j++) {
                expected[ids[r] * c + j] += dy.get(r * c + j);
            }
        }
        assertArrayEquals(bits(expected), bits(whole));
    }

    private static float[] scatter(int threads, Tensor start, int[][] parts, Tensor dy) {
        int c = dy.cols();
        Tensor table = Tensor.zeros(start.shape()).requireGrad();
        table.setGrad(Tensor.of(start.toArray(), start.shape()));
        try (Compute compute = new Compute(threads)) {
            int row = 0;
            for (int[] ids : parts) {
                Tape tape = new Tape(compute, new Arena());
                Tensor y = EmbeddingOp.forward(tape, ids, table);
                tape.grad(y).copyFrom(Arrays.copyOfRange(dy.toArray(), row * c, (row + ids.length) * c));
                tape.backward();
                row += ids.length;
            }
        }
        return table.grad().toArray();
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }
}
