package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import io.accrue.tensor.attention.AttentionKernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    /** Over two blocks of query rows (T = 66): probabilities recomputed in backward, dK and dV added block by block. */
    @Test
    void gradientsMatchFiniteDifferencesAcrossBlocks() {
        Tensor qkv = GradCheck.random(14, 1f, 1, AttentionOp.ROWS + 2, 3 * 2); // B=1, C=2, NH=1, HS=2
        GradCheck.check(t -> AttentionOp.forward(t, qkv, 1), List.of(qkv), 1e-2, 3e-3);
    }

    /**
     * The tiled op gives the bits of the untiled computation — whole (T, T) matrices of scores, probabilities and
     * their gradients, from the kernels' scalar oracles — for T within one block, at a block's end and across
     * several blocks, on 1 and 3 threads, adding to a gradient that holds values.
     */
    @Test
    void tiledEqualsTheUntiledScalarOracle() {
        int c = 32;
        int heads = 2;
        for (int t : new int[] {1, 13, AttentionOp.ROWS, AttentionOp.ROWS + 1, 2 * AttentionOp.ROWS + 22}) {
            Tensor qkv = GradCheck.random(20 + t, 1.5f, 2, t, 3 * c);
            Tensor dy = GradCheck.random(21 + t, 1f, 2, t, c);
            float[] start = GradCheck.random(22 + t, 1f, 2, t, 3 * c).toArray();
            float[][] expected = untiled(qkv.toArray(), dy.toArray(), start, 2, t, c, heads);
            for (int threads : new int[] {1, 3}) {
                try (Compute compute = new Compute(threads)) {
                    Tape tape = new Tape(compute, new Arena());
                    qkv.grad().copyFrom(start);
                    Tensor y = AttentionOp.forward(tape, qkv, heads);
                    tape.grad(y).copyFrom(dy.toArray());
                    tape.backward();
                    String what = "T=" + t + ", " + threads + " threads";
                    assertArrayEquals(bits(expected[0]), bits(y.toArray()), "y, " + what);
                    assertArrayEquals(bits(expected[1]), bits(qkv.grad().toArray()), "dqkv, " + what);
                }
            }
        }
    }

    /** Attention over whole (T, T) matrices with the scalar kernels; dqkv adds to {@code start}. Returns {y, dqkv}. */
    private static float[][] untiled(float[] x, float[] dy, float[] start, int bsz, int t, int c, int heads) {
        int hs = c / heads;
        float scale = (float) (1.0 / Math.sqrt(hs));
        float[] y = new float[bsz * t * c];
        float[] dx = start.clone();
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                int q0 = b * t * 3 * c + h * hs; // row i of q at q0 + i·3C, of k at q0 + C + i·3C
                int y0 = b * t * c + h * hs;
                float[] kt = transposed(x, q0 + c, 3 * c, t, hs);
                float[] vt = transposed(x, q0 + 2 * c, 3 * c, t, hs);
                float[] p = new float[t * t];
                float[] ds = new float[t * t];
                AttentionKernels.multiplyScalar(p, 0, t, false, x, q0, 3 * c, 1, kt, 0, t, t, t, hs,
                        AttentionKernels.CAUSAL_COLUMNS, 0);
                for (int i = 0; i < t; i++) {
                    AttentionKernels.softmaxRowScalar(p, i * t, i + 1, width(i, t), scale, new float[2], 0);
                }
                AttentionKernels.multiplyScalar(y, y0, c, false, p, 0, t, 1, x, q0 + 2 * c, 3 * c, t, hs, t,
                        AttentionKernels.LOWER, 0);
                AttentionKernels.multiplyScalar(ds, 0, t, false, dy, y0, c, 1, vt, 0, t, t, t, hs,
                        AttentionKernels.CAUSAL_COLUMNS, 0);
                for (int i = 0; i < t; i++) {
                    AttentionKernels.softmaxBackwardRowScalar(ds, i * t, p, i * t, i + 1, width(i, t), scale);
                }
                AttentionKernels.multiplyScalar(dx, q0 + 2 * c, 3 * c, true, p, 0, 1, t, dy, y0, c, t, hs, t,
                        AttentionKernels.UPPER, 0);
                AttentionKernels.multiplyScalar(dx, q0, 3 * c, true, ds, 0, t, 1, x, q0 + c, 3 * c, t, hs, t,
                        AttentionKernels.LOWER, 0);
                AttentionKernels.multiplyScalar(dx, q0 + c, 3 * c, true, ds, 0, 1, t, x, q0, 3 * c, t, hs, t,
                        AttentionKernels.UPPER, 0);
            }
        }
        return new float[][] {y, dx};
    }

    /** The (cols, rows) transpose of rows × cols floats at {@code off}, rows {@code ld} apart. */
    private static float[] transposed(float[] a, int off, int ld, int rows, int cols) {
        float[] t = new float[cols * rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = a[off + i * ld + j];
            }
        }
        return t;
    }

    /** The written columns of a causal row: up to the next multiple of 16 past the diagonal. */
    private static int width(int i, int t) {
        return Math.min(t, (i + 16) / 16 * 16);
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
    @ParameterizedTest
    @ValueSource(ints = {7, AttentionOp.ROWS + 9})
    void exampleAloneEqualsExampleInsideABatch(int t) {
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

    /** Forward and backward against a plain double-precision attention written from the formulas. */
    @Test
    void matchesAPlainDoubleOracle() {
        int bsz = 2;
        int t = 21;
        int c = 12;
        int heads = 2;
        int hs = c / heads;
        Tensor qkv = GradCheck.random(10, 1.5f, bsz, t, 3 * c);
        Tensor dy = GradCheck.random(11, 1f, bsz, t, c);
        float[][] fast = run(2, qkv, dy, heads);
        float[] x = qkv.toArray();
        float[] g = dy.toArray();
        double[] y = new double[bsz * t * c];
        double[] dx = new double[bsz * t * 3 * c];
        double scale = 1 / Math.sqrt(hs);
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] p = new double[t][t];
                double[][] dp = new double[t][t];
                for (int i = 0; i < t; i++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double s = 0;
                        for (int f = 0; f < hs; f++) {
                            s += (double) x[idx(b, i, 0, h, f, t, c)] * x[idx(b, j, 1, h, f, t, c)];
                        }
                        p[i][j] = s * scale;
                        max = Math.max(max, p[i][j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        p[i][j] = Math.exp(p[i][j] - max);
                        sum += p[i][j];
                    }
                    for (int j = 0; j <= i; j++) {
                        p[i][j] /= sum;
                        for (int f = 0; f < hs; f++) {
                            y[(b * t + i) * c + h * hs + f] += p[i][j] * x[idx(b, j, 2, h, f, t, c)];
                            dp[i][j] += (double) g[(b * t + i) * c + h * hs + f] * x[idx(b, j, 2, h, f, t, c)];
                            dx[idx(b, j, 2, h, f, t, c)] += p[i][j] * g[(b * t + i) * c + h * hs + f];
                        }
                    }
                    double dot = 0;
                    for (int j = 0; j <= i; j++) {
                        dot += p[i][j] * dp[i][j];
                    }
                    for (int j = 0; j <= i; j++) {
                        double ds = p[i][j] * (dp[i][j] - dot) * scale;
                        for (int f = 0; f < hs; f++) {
                            dx[idx(b, i, 0, h, f, t, c)] += ds * x[idx(b, j, 1, h, f, t, c)];
                            dx[idx(b, j, 1, h, f, t, c)] += ds * x[idx(b, i, 0, h, f, t, c)];
                        }
                    }
                }
            }
        }
        for (int i = 0; i < y.length; i++) {
            assertEquals(y[i], fast[0][i], 1e-5 * (1 + Math.abs(y[i])), "y[" + i + "]");
        }
        for (int i = 0; i < dx.length; i++) {
            assertEquals(dx[i], fast[1][i], 1e-5 * (1 + Math.abs(dx[i])), "dqkv[" + i + "]");
        }
    }

    /**
     * P and dS are written only near the diagonal (up to the next multiple of 16 columns), and an op output's
     * gradient dqkv is written without being zeroed first: whatever the arena held is never read. On an arena full
     * of NaN from an earlier micro-batch, T = 37, 70 and 150 (one, two and three blocks of rows) give the bits of a
     * clean arena, and of a leaf's gradient that is added to.
     */
    @Test
    void staleArenaContentsAreNeverRead() {
        for (int t : new int[] {37, 70, 150}) {
            Tensor qkv = GradCheck.random(12, 1.5f, 2, t, 3 * 8);
            Tensor dy = GradCheck.random(13, 1f, 2, t, 8);
            float[][] leaf = run(2, qkv, dy, 2);
            for (float stale : new float[] {0f, Float.NaN}) {
                try (Compute c = new Compute(2)) {
                    Arena arena = new Arena();
                    arena.allocate(1 << 16).fill(stale);
                    arena.reset();
                    Tape tape = new Tape(c, arena);
                    qkv.grad().fill(0f);
                    // through an op, so that attention's input has no gradient yet: dqkv is fresh
                    Tensor input = AddOp.forward(tape, qkv, Tensor.zeros(qkv.shape()));
                    Tensor y = AttentionOp.forward(tape, input, 2);
                    tape.grad(y).copyFrom(dy.toArray());
                    tape.backward();
                    String what = "T=" + t + ", arena of " + stale;
                    assertArrayEquals(bits(leaf[0]), bits(y.toArray()), "y, " + what);
                    assertArrayEquals(bits(leaf[1]), bits(qkv.grad().toArray()), "dqkv, " + what);
                }
            }
        }
    }

    /** Index of feature f of head h of part (0 q, 1 k, 2 v) of token i of example b in qkv (B, T, 3C). */
    private static int idx(int b, int i, int part, int h, int f, int t, int c) {
        return (b * t + i) * 3 * c + part * c + h * (c / 2) + f;
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
