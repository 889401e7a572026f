package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Add, ReLU and GELU: finite differences, hand-computed values, thread-count invariance. */
class ElementwiseOpsTest {

    @Test
    void addGradientsMatchFiniteDifferences() {
        Tensor a = GradCheck.random(1, 1f, 3, 5);
        Tensor b = GradCheck.random(2, 1f, 3, 5);
        GradCheck.check(t -> AddOp.forward(t, a, b), List.of(a, b), 1e-2, 1e-3);
    }

    @Test
    void addOfATensorToItselfDoublesTheGradient() {
        Tensor a = GradCheck.random(3, 1f, 4, 2);
        GradCheck.check(t -> AddOp.forward(t, a, a), List.of(a), 1e-2, 1e-3);
    }

    @Test
    void addForwardAndShapeMismatch() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor y = AddOp.forward(tape, Tensor.of(new float[] {1, 2, 3, 4}, 2, 2),
                    Tensor.of(new float[] {0.5f, -2, 0, 1}, 2, 2));
            assertArrayEquals(new float[] {1.5f, 0, 3, 5}, y.toArray());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> AddOp.forward(tape, Tensor.zeros(2, 3), Tensor.zeros(3, 2)));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        }
    }

    @Test
    void reluGradientsMatchFiniteDifferences() {
        Tensor x = GradCheck.random(4, 1f, 4, 6);
        for (int i = 0; i < x.size(); i++) { // keep away from the kink at 0
            if (Math.abs(x.get(i)) < 0.05f) {
                x.set(i, 0.3f);
            }
        }
        GradCheck.check(t -> ReluOp.forward(t, x), List.of(x), 1e-2, 1e-3);
    }

    @Test
    void reluForward() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor y = ReluOp.forward(tape, Tensor.of(new float[] {-1, 0, 2.5f, -0f}, 4));
            assertArrayEquals(new float[] {0, 0, 2.5f, 0}, y.toArray());
        }
    }

    @Test
    void geluGradientsMatchFiniteDifferences() {
        Tensor x = GradCheck.random(5, 3f, 5, 7);
        GradCheck.check(t -> GeluOp.forward(t, x), List.of(x), 1e-2, 2e-3);
    }

    @Test
    void geluMatchesGpt2TanhApproximation() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            float[] x = {-2, -1, 0, 0.5f, 1, 3, -30, 30};
            double[] expected = {-0.04540230591222494, -0.15880800939172324, 0.0, 0.34571400982514394,
                    0.8411919906082768, 2.996362607918227, -0.0, 30};
            float[] y = GeluOp.forward(tape, Tensor.of(x, x.length)).toArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(expected[i], y[i], 1e-6, "gelu(" + x[i] + ")");
            }
        }
    }

    @Test
    void largeTensorsGiveTheSameBitsOnOneOrTwoThreads() {
        Tensor x = GradCheck.random(6, 3f, 300, 512);
        Tensor r = GradCheck.random(7, 1f, 300, 512);
        float[][] one = geluAddRelu(1, x, r);
        float[][] two = geluAddRelu(2, x, r);
        for (int i = 0; i < one.length; i++) {
            assertArrayEquals(one[i], two[i]);
        }
    }

    private static float[][] geluAddRelu(int threads, Tensor x, Tensor r) {
        try (Compute c = new Compute(threads)) {
            Tape tape = new Tape(c, new Arena());
            x.grad().fill(0f);
            Tensor y = ReluOp.forward(tape, AddOp.forward(tape, GeluOp.forward(tape, x), x));
            tape.grad(y).copyFrom(r.toArray());
            tape.backward();
            return new float[][] {y.toArray(), x.grad().toArray()};
        }
    }
}
