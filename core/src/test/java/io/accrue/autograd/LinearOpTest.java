package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LinearOpTest {

    @Test
    void gradientsMatchFiniteDifferences() {
        Tensor x = GradCheck.random(1, 1f, 5, 7);
        Tensor w = GradCheck.random(2, 0.5f, 3, 7);
        Tensor b = GradCheck.random(3, 0.5f, 3);
        GradCheck.check(t -> LinearOp.forward(t, x, w, b), List.of(x, w, b), 1e-2, 2e-3);
    }

    /**
     * X feeding two linear layers: the first backward writes a fresh dX, the second adds to it; and a layer without
     * bias, whose outputs start from 0.
     */
    @Test
    void inputGradientOfTwoConsumersAndNoBiasMatchFiniteDifferences() {
        Tensor x = GradCheck.random(4, 1f, 5, 7);
        Tensor w1 = GradCheck.random(5, 0.5f, 3, 7);
        Tensor b1 = GradCheck.random(6, 0.5f, 3);
        Tensor w2 = GradCheck.random(7, 0.5f, 3, 7);
        GradCheck.check(t -> AddOp.forward(t, LinearOp.forward(t, x, w1, b1), LinearOp.forward(t, x, w2, null)),
                List.of(x, w1, b1, w2), 1e-2, 2e-3);
    }

    @Test
    void forwardIsXTimesWTransposedPlusBias() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
            Tensor w = Tensor.of(new float[] {1, 0, 1, 1, 0, 2}, 3, 2);
            Tensor b = Tensor.of(new float[] {0.5f, 0, -1}, 3);
            Tensor y = LinearOp.forward(tape, x, w, b);
            assertArrayEquals(new float[] {1.5f, 3, 3, 3.5f, 7, 7}, y.toArray());
        }
    }

    @Test
    void mismatchedWeightNamesBothShapes() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> LinearOp.forward(tape, Tensor.zeros(2, 3), Tensor.zeros(4, 5), null));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        }
    }
}
