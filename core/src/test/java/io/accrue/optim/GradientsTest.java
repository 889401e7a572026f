package io.accrue.optim;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.accrue.optim.AdamWTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

class GradientsTest {

    @Test
    void oneVectorIsItsOwnMeanInAFreshArray() {
        float[] g = {1, -2, 0.5f};
        float[] mean = Gradients.accumulate(List.of(g));
        assertArrayEquals(new float[] {1, -2, 0.5f}, mean);
        assertNotSame(g, mean);
    }

    @Test
    void threeVectorsHandComputed() {
        float[] mean = Gradients.accumulate(List.of(new float[] {1, 2, 0}, new float[] {3, 4, -3},
                new float[] {5, 7, 1.5f}));
        assertArrayEquals(new float[] {3f, 13f / 3f, -0.5f}, mean);
    }

    @Test
    void sumsInListOrderThenDividesOnce() {
        // ((1e8 + 1) - 1e8) is 0 in float (1e8 + 1 rounds to 1e8); another order would give 1/3
        float[] mean = Gradients.accumulate(List.of(new float[] {1e8f}, new float[] {1f}, new float[] {-1e8f}));
        assertArrayEquals(new float[] {0f}, mean);
        float[] other = Gradients.accumulate(List.of(new float[] {1e8f}, new float[] {-1e8f}, new float[] {1f}));
        assertArrayEquals(new float[] {1f / 3f}, other);
        // dividing once: (0.1 + 0.2 + 0.4) / 3, not 0.1/3 + 0.2/3 + 0.4/3
        float[] once = Gradients.accumulate(List.of(new float[] {0.1f}, new float[] {0.2f}, new float[] {0.4f}));
        assertArrayEquals(new float[] {(0.1f + 0.2f + 0.4f) / 3f}, once);
    }

    @Test
    void badInputsAreNamed() {
        assertMessage("grads is null", () -> Gradients.accumulate(null));
        assertMessage("grads is empty: need at least one gradient vector", () -> Gradients.accumulate(List.of()));
        assertMessage("grads[1] is null", () -> Gradients.accumulate(Arrays.asList(new float[2], null)));
        assertMessage("grads[0] is null", () -> Gradients.accumulate(Arrays.asList(null, new float[2])));
        List<float[]> ragged = new ArrayList<>(List.of(new float[4], new float[4], new float[5]));
        assertMessage("grads[2] has length 5, expected 4 like grads[0]", () -> Gradients.accumulate(ragged));
    }
}
