package io.accrue.autograd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The tape's activation gradients start at zero even in reused arena storage, on every thread count. */
class TapeTest {

    @Test
    void activationGradientsAreZeroInReusedStorage() {
        for (int threads = 1; threads <= 3; threads++) {
            try (Compute compute = new Compute(threads)) {
                Arena arena = new Arena();
                Tape tape = new Tape(compute, arena);
                int[][] shapes = {{3, 5}, {300, 700}}; // below and above the parallel zeroing grain
                for (int[] shape : shapes) {
                    arena.allocate(shape).fill(7f);
                    tape.reset();
                    Tensor g = tape.grad(tape.output(shape));
                    for (int i = 0; i < g.size(); i++) {
                        assertEquals(0f, g.get(i), "element " + i + " of " + g + ", threads " + threads);
                    }
                    tape.reset();
                }
            }
        }
    }
}
