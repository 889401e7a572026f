package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.accrue.autograd.EmbeddingOpTest.bits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AttentionOpTest {

    @Test
    void gradientsMatchFiniteDifferences() {
        Tensor qkv = GradCheck.random(1, 1f, 2, 5, 3 * 6); // B=2, T=5, C=6, NH=2, HS=3
        GradCheck.check(t -> AttentionOp.forward(t, qkv, 2), List.of(qkv), 1e-2, 3e-3);
    }

    @Test
    void firstTokenCopiesItsValueAndZeroQueriesAverageTheValues() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            // B=1, T=2, C=2, NH=1: q = 0 gives uniform weights over the visible tokens.
            float[] qkv = {
                    0, 0, 1, 2, 10, 20, // t=0: q, k, v
                    0, 0, 3, 4, 30, 40, // t=1
            };
            Tensor y = AttentionOp.forward(tape, Tensor.of(qkv, 1, 2, 6), 1);
            assertArrayEquals(new int[] {1, 2, 2}, y.shape());
            assertArrayEquals(new float[] {10, 20, 20, 30}, y.toArray());
        }
    }

    @Test
    void scoresAreScaledDotProductsWithSoftmax() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            // B=1, T=2, C=4, NH=1, HS=4: at t=1, s0 = q·k0/2 = 0, s1 = q·k1/2 = 1; v0, v1 are unit vectors.
            float[] qkv = {
                    0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                    1, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0,
            };
            float[] y = AttentionOp.forward(tape, Tensor.of(qkv, 1, 2, 12), 1).toArray();
            double w0 = 1 / (1 + Math.E);
            assertEquals(w0, y[4], 1e-6);
            assertEquals(1 - w0, y[5], 1e-6);
        }
    }

    /** An example's output and gradient do not depend on the batch around it or the thread count. */
    @Test
    void exampleAloneEqualsExampleInsideABatch() {
        int t = 7;
        int c3 = 3 * 8;
        Tensor batch = GradCheck.random(2, 2f, 3, t, c3);
        Tensor dyBatch = GradCheck.random(3, 1f, 3, t, c3 / 3);
        Tensor single = GradCheck.random(0, 1f, 1, t, c3);
        single.copyFrom(Arrays.copyOfRange(batch.toArray(), t * c3, 2 * t * c3));
        Tensor dySingle = Tensor.of(Arrays.copyOfRange(dyBatch.toArray(), t * c3 / 3, 2 * t * c3 / 3), 1, t, c3 / 3);
        float[][] inBatch = run(2, batch, dyBatch, 4);
        float[][] alone = run(1, single, dySingle, 4);
        assertArrayEquals(bits(alone[0]), bits(Arrays.copyOfRange(inBatch[0], t * c3 / 3, 2 * t * c3 / 3)));
        assertArrayEquals(bits(alone[1]), bits(Arrays.copyOfRange(inBatch[1], t * c3, 2 * t * c3)));
    }

    @Test
    void laterTokensDoNotChangeEarlierOutputs() {
        int t = 6;
        int c = 8;
        Tensor qkv = GradCheck.random(4, 1f, 2, t, 3 * c);
        float[] before = run(1, qkv, GradCheck.random(5, 1f, 2, t, c), 2)[0];
        float[] changed = qkv.toArray();
        for (int j = 0; j < 3 * c; j++) {
            changed[(t + 4) * 3 * c + j] += 0.5f; // example 1, token 4
        }
        qkv.copyFrom(changed);
        float[] after = run(1, qkv, GradCheck.random(5, 1f, 2, t, c), 2)[0];
        int firstChanged = (t + 4) * c;
        assertArrayEquals(bits(Arrays.copyOfRange(before, 0, firstChanged)),
                bits(Arrays.copyOfRange(after, 0, firstChanged)));
        assertFalse(Arrays.equals(Arrays.copyOfRange(before, firstChanged, firstChanged + c),
                Arrays.copyOfRange(after, firstChanged, firstChanged + c)));
    }

    /** The interleaved dot products give the bits of one plain fma chain per dot. */
    @Test
    void interleavedDotsEqualPlainChains() {
        int rows = 37;
        int stride = 50;
        int n = 29;
        float[] m = GradCheck.random(8, 3f, rows * stride).toArray();
        float[] x = GradCheck.random(9, 3f, n).toArray();
        for (int count : new int[] {1, 7, 37}) {
            float[] plain = new float[count];
            for (int j = 0; j < count; j++) {
                float s = 0f;
                for (int i = 0; i < n; i++) {
                    s = Math.fma(x[i], m[5 + j * stride + i], s);
                }
                plain[j] = s;
            }
            float[] fast = new float[count + 2];
            AttentionOp.dots(fast, 2, x, 0, m, 5, stride, count, n);
            assertArrayEquals(bits(plain), bits(Arrays.copyOfRange(fast, 2, count + 2)));
        }
    }

    @Test
    void badShapesAreNamed() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> AttentionOp.forward(tape, Tensor.zeros(1, 2, 3 * 6), 4));
            assertTrue(e.getMessage().contains("4 heads") && e.getMessage().contains("C = 6"), e.getMessage());
            var f = assertThrows(IllegalArgumentException.class,
                    () -> AttentionOp.forward(tape, Tensor.zeros(2, 10), 1));
            assertTrue(f.getMessage().contains("[2, 10]"), f.getMessage());
        }
    }

    /** Forward and backward on a fresh tape; returns {y, dqkv}. */
    private static float[][] run(int threads, Tensor qkv, Tensor dy, int heads) {
        try (Compute c = new Compute(threads)) {
            Tape tape = new Tape(c, new Arena());
            qkv.grad().fill(0f);
            Tensor y = AttentionOp.forward(tape, qkv, heads);
            tape.grad(y).copyFrom(dy.toArray());
            tape.backward();
            return new float[][] {y.toArray(), qkv.grad().toArray()};
        }
    }
}
