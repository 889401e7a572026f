package io.accrue.optim;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.ParameterStore;
import org.junit.jupiter.api.Test;

import static io.accrue.optim.AdamWTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GradClipTest {

    @Test
    void normIsComputedAndGradientsAreScaled() {
        ParameterStore s = Stores.three();
        Stores.setGrads(s, 3, -4, 0);
        double norm = GradClip.clipGlobalNorm(s, 1f);
        assertEquals(5.0, norm, "the norm before clipping");
        float coef = (float) (1.0 / (5.0 + 1e-6));
        assertArrayEquals(new float[] {3 * coef, -4 * coef, 0}, s.grads());
        assertEquals(1.0, GradClip.globalNorm(s), 1e-6);
    }

    @Test
    void belowTheThresholdNothingChanges() {
        ParameterStore s = Stores.three();
        Stores.setGrads(s, 3, -4, 0);
        assertEquals(5.0, GradClip.clipGlobalNorm(s, 5f), "norm == maxNorm is not clipped");
        assertEquals(5.0, GradClip.clipGlobalNorm(s, 10f));
        assertArrayEquals(new float[] {3, -4, 0}, s.grads());
    }

    @Test
    void tiedSlotsAreNeitherCountedNorScaled() {
        ParameterStore s = new ParameterStore();
        s.declare("wte", new int[] {2}, true, (a, o, n) -> { });
        String tied = s.tie("wte");
        s.allocate();
        Stores.setGrads(s, 3, 4, 100, 100);
        assertEquals(tied, "wte#tied0");
        assertEquals(5.0, GradClip.clipGlobalNorm(s, 1f));
        assertEquals(100f, s.grads()[2]);
        assertEquals(100f, s.grads()[3]);
    }

    @Test
    void sameBitsForOneAndThreeThreadsAndSequential() {
        int[] sizes = {100_000, 1, 100_000}; // 200,001 elements: four chunks
        ParameterStore seq = Stores.random(1, sizes);
        Stores.randomGrads(seq, 42);
        double seqNorm = GradClip.clipGlobalNorm(seq, 0.5f);
        assertTrue(seqNorm > 0.5);
        for (int threads : new int[] {1, 3}) {
            ParameterStore s = Stores.random(1, sizes);
            Stores.randomGrads(s, 42);
            try (Parallel par = new Parallel(threads)) {
                double norm = GradClip.clipGlobalNorm(s, 0.5f, par);
                assertEquals(Double.doubleToRawLongBits(seqNorm), Double.doubleToRawLongBits(norm),
                        threads + " threads");
            }
            assertArrayEquals(seq.grads(), s.grads(), threads + " threads");
        }
    }

    @Test
    void nonFiniteNormScalesNothing() {
        ParameterStore s = Stores.three();
        Stores.setGrads(s, Double.NaN, 1, 1);
        assertTrue(Double.isNaN(GradClip.clipGlobalNorm(s, 1f)));
        assertEquals(1f, s.grads()[1]);
    }

    @Test
    void badMaxNormIsNamed() {
        ParameterStore s = Stores.three();
        assertMessage("maxNorm must be > 0, got 0.0", () -> GradClip.clipGlobalNorm(s, 0f));
        assertMessage("maxNorm must be > 0, got -1.0", () -> GradClip.clipGlobalNorm(s, -1f));
        assertMessage("maxNorm must be > 0, got NaN", () -> GradClip.clipGlobalNorm(s, Float.NaN));
    }
}
