package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static io.accrue.autograd.EmbeddingOpTest.bits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Softmax cross-entropy and MSE: the loss backward is the gradient of the raw sum of the rows (law 2). */
class LossOpsTest {

    /**
     * Compares the gradient a loss's backward adds into {@code x.grad()} with the central difference of
     * f = Σ rows (in double).
     */
    static void checkLossGradient(Function<Tape, Loss> loss, Tensor x, double eps, double tolerance) {
        try (Compute c = new Compute(1)) {
            x.grad().fill(0f);
            Tape tape = new Tape(c, new Arena());
            loss.apply(tape);
            tape.backward();
            float[] analytic = x.grad().toArray();
            for (int e = 0; e < x.size(); e++) {
                float orig = x.get(e);
                x.set(e, (float) (orig + eps));
                double plus = loss.apply(new Tape(c, new Arena())).sum();
                x.set(e, (float) (orig - eps));
                double minus = loss.apply(new Tape(c, new Arena())).sum();
                x.set(e, orig);
                double numeric = (plus - minus) / (2 * eps);
                double err = Math.abs(analytic[e] - numeric) / Math.max(1.0, Math.abs(numeric));
                assertTrue(err <= tolerance, "element " + e + ": analytic " + analytic[e] + " vs numeric " + numeric);
            }
        }
    }

    @Test
    void crossEntropyGradientIsTheSumsGradient() {
        Tensor logits = GradCheck.random(1, 3f, 4, 7);
        int[] targets = {6, 0, 3, 3};
        checkLossGradient(t -> SoftmaxCrossEntropyOp.forward(t, logits, targets, -100), logits, 1e-2, 2e-3);
    }

    @Test
    void crossEntropyHandComputed() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor logits = Tensor.of(new float[] {0, 0, 0, 0, 1, 2, 3, 0, 1000, 0, 0, 0}, 3, 4).requireGrad();
            Loss loss = SoftmaxCrossEntropyOp.forward(tape, logits, new int[] {2, 0, 0}, -1);
            assertEquals(3, loss.count());
            float[] rows = loss.rows().toArray();
            assertEquals(Math.log(4), rows[0], 1e-6);
            assertEquals(Math.log(Math.E + Math.exp(2) + Math.exp(3) + 1) - 1, rows[1], 1e-6);
            assertEquals(0, rows[2], 1e-6); // max subtracted: no overflow
            tape.backward();
            float[] g = logits.grad().toArray();
            assertArrayEquals(new float[] {0.25f, 0.25f, -0.75f, 0.25f}, java.util.Arrays.copyOf(g, 4), 1e-7f);
            assertArrayEquals(new float[] {0, 0, 0, 0}, java.util.Arrays.copyOfRange(g, 8, 12), 1e-7f);
        }
    }

    @Test
    void ignoredRowsHaveNoLossNoGradientAndAreNotCounted() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor logits = GradCheck.random(2, 2f, 4, 5);
            Loss loss = SoftmaxCrossEntropyOp.forward(tape, logits, new int[] {1, -100, 4, -100}, -100);
            assertEquals(2, loss.count());
            assertEquals(0f, loss.rows().get(1));
            assertEquals(0f, loss.rows().get(3));
            assertTrue(loss.rows().get(0) > 0 && loss.rows().get(2) > 0);
            tape.backward();
            float[] g = logits.grad().toArray();
            double rowSum = 0;
            for (int j = 0; j < 5; j++) {
                assertEquals(0f, g[5 + j]);
                assertEquals(0f, g[15 + j]);
                rowSum += g[j];
            }
            assertEquals(0, rowSum, 1e-6); // softmax − onehot sums to 0: seeded with 1, not 1/count
            assertEquals(-1 + softmax(logits, 0, 1), g[1], 1e-6);
        }
    }

    @Test
    void crossEntropyGivesTheSameBitsOnOneOrTwoThreads() {
        Tensor logits = GradCheck.random(3, 5f, 64, 1000);
        int[] targets = new int[64];
        for (int r = 0; r < targets.length; r++) {
            targets[r] = r % 5 == 0 ? -1 : (r * 37) % 1000;
        }
        float[][] one = crossEntropy(1, logits, targets);
        float[][] two = crossEntropy(2, logits, targets);
        assertArrayEquals(bits(one[0]), bits(two[0]));
        assertArrayEquals(bits(one[1]), bits(two[1]));
    }

    private static float[][] crossEntropy(int threads, Tensor logits, int[] targets) {
        try (Compute c = new Compute(threads)) {
            logits.grad().fill(0f);
            Tape tape = new Tape(c, new Arena());
            Loss loss = SoftmaxCrossEntropyOp.forward(tape, logits, targets, -1);
            tape.backward();
            return new float[][] {loss.rows().toArray(), logits.grad().toArray()};
        }
    }

    @Test
    void crossEntropyBadInputsAreNamed() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> SoftmaxCrossEntropyOp.forward(tape, Tensor.zeros(3, 5), new int[] {0, 9, 1}, -100));
            assertTrue(e.getMessage().contains("target 9") && e.getMessage().contains("row 1")
                    && e.getMessage().contains("V = 5"), e.getMessage());
            var f = assertThrows(IllegalArgumentException.class,
                    () -> SoftmaxCrossEntropyOp.forward(tape, Tensor.zeros(3, 5), new int[] {0, 1}, -100));
            assertTrue(f.getMessage().contains("2 targets") && f.getMessage().contains("3 rows"), f.getMessage());
        }
    }

    @Test
    void mseGradientIsTheSumsGradient() {
        Tensor p = GradCheck.random(4, 1f, 3, 4);
        Tensor t = GradCheck.random(5, 1f, 3, 4);
        checkLossGradient(tape -> MseOp.forward(tape, p, t), p, 1e-2, 1e-3);
        checkLossGradient(tape -> MseOp.forward(tape, p, t), t, 1e-2, 1e-3);
    }

    @Test
    void mseHandComputedAndShapeMismatch() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor p = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).requireGrad();
            Loss loss = MseOp.forward(tape, p, Tensor.of(new float[] {0, 2, 5, 4}, 2, 2));
            assertArrayEquals(new float[] {1, 4}, loss.rows().toArray());
            assertEquals(4, loss.count());
            tape.backward();
            assertArrayEquals(new float[] {2, 0, -4, 0}, p.grad().toArray());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> MseOp.forward(tape, Tensor.zeros(2, 3), Tensor.zeros(3, 2)));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        }
    }

    private static double softmax(Tensor logits, int row, int col) {
        int v = logits.cols();
        double s = 0;
        for (int j = 0; j < v; j++) {
            s += Math.exp(logits.get(row * v + j));
        }
        return Math.exp(logits.get(row * v + col)) / s;
    }
}
