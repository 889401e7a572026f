package io.accrue.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorTest {

    @Test
    void viewsShareStorageAndReshapeSharesGradients() {
        float[] storage = new float[20];
        Tensor t = new Tensor(storage, 4, 2, 3).requireGrad();
        t.set(5, 9f);
        assertEquals(9f, storage[9]);
        assertEquals(2, t.rows());
        assertEquals(3, t.cols());
        Tensor r = t.reshape(3, 2);
        assertSame(t, r.base());
        assertTrue(r.requiresGrad());
        assertEquals(9f, r.get(5));
    }

    @Test
    void badViewsNameTheShapeAndStorage() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Tensor(new float[10], 5, 2, 3));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("10"), e.getMessage());
        var r = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).reshape(4, 2));
        assertTrue(r.getMessage().contains("[2, 3]") && r.getMessage().contains("[4, 2]"), r.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).requireShape("bias", 3));
        assertTrue(s.getMessage().contains("bias") && s.getMessage().contains("[2, 3]"), s.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> Tensor.zeros(2).get(2));
    }

    @Test
    void parameterStoreKeepsOneLayoutAndFoldsTiedGradients() {
        ParameterStore store = new ParameterStore();
        store.declare("a", new int[] {2, 2}, true, (v, o, n) -> v[o] = 1f);
        store.declare("b", new int[] {3}, false, (v, o, n) -> v[o + 2] = 2f);
        String tied = store.tie("a");
        store.allocate();
        assertEquals(7, store.size());
        assertArrayEquals(new float[] {1, 0, 0, 0, 0, 0, 2}, store.values());
        assertEquals(11, store.grads().length, "main layout plus one tied slot");
        assertSame(store.values(), store.tensor(tied).data(), "a tied use shares the values");
        store.tensor("a").grad().fill(1f);
        store.tensor(tied).grad().fill(0.5f);
        store.foldTiedGradients();
        assertArrayEquals(new float[] {1.5f, 1.5f, 1.5f, 1.5f, 0, 0, 0, 0, 0, 0, 0}, store.grads());
        var dup = assertThrows(IllegalStateException.class, () -> store.declare("c", new int[] {1}, false, (v, o, n) -> { }));
        assertTrue(dup.getMessage().contains("'c'"), dup.getMessage());
        var unknown = assertThrows(IllegalArgumentException.class, () -> store.get("zz"));
        assertTrue(unknown.getMessage().contains("'zz'"), unknown.getMessage());
    }

    @Test
    void parallelSplitsOutputsAndPropagatesFailures() {
        try (Parallel p = new Parallel(3)) {
            int[] owner = new int[100];
            p.forRange(100, 1, (from, to) -> {
                for (int i = from; i < to; i++) {
                    owner[i]++;
                }
            });
            for (int v : owner) {
                assertEquals(1, v, "every output handled exactly once");
            }
            var e = assertThrows(IllegalStateException.class, () -> p.forRange(100, 1, (from, to) -> {
                if (from > 0) {
                    throw new ArithmeticException("boom");
                }
            }));
            assertTrue(e.getMessage().contains("boom"), e.getMessage());
        }
        var bad = assertThrows(IllegalArgumentException.class, () -> new Parallel(0));
        assertTrue(bad.getMessage().contains("0"), bad.getMessage());
    }

    @Test
    void unevenCutsStillHandleEveryOutputOnceInContiguousParts() {
        try (Parallel p = new Parallel(3, new double[] {1, 6, 0.25})) {
            int[] owner = new int[100];
            int[][] ranges = new int[3][];
            p.forParts(100, 1, (part, from, to) -> {
                ranges[part] = new int[] {from, to};
                for (int i = from; i < to; i++) {
                    owner[i]++;
                }
            });
            for (int v : owner) {
                assertEquals(1, v, "every output handled exactly once");
            }
            assertEquals(0, ranges[0][0]);
            assertEquals(ranges[0][1], ranges[1][0]);
            assertEquals(ranges[1][1], ranges[2][0]);
            assertEquals(100, ranges[2][1]);
            // Cut in proportion 1 : 6 : 0.25 of 7.25.
            assertEquals(14, ranges[0][1]);
            assertEquals(97, ranges[1][1]);
        }
    }

    /** A part whose thread is slower gets fewer outputs on later calls of the same loop. */
    @Test
    void aSlowerPartGetsASmallerShare() {
        try (Parallel p = new Parallel(2)) {
            int[] firstPart = new int[1];
            for (int call = 0; call < 30; call++) {
                p.forParts(1000, 1, (part, from, to) -> {
                    if (part == 0) {
                        firstPart[0] = to - from;
                    }
                    // Each output of part 1 costs four times as long, as on a core shared with another tenant.
                    spin((long) (to - from) * (part == 1 ? 4_000 : 1_000));
                });
            }
            // Equal speeds cut 500 : 500; the ideal cut is 800 : 200.
            assertTrue(firstPart[0] > 650, "part 0 has " + firstPart[0] + " of 1000 outputs");
        }
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
