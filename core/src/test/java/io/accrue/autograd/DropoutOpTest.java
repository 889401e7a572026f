package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DropoutOpTest {

    @Test
    void gradientsMatchFiniteDifferences() {
        Tensor x = GradCheck.random(1, 1f, 6, 10);
        long[] keys = {100, 101, 102, 7, 8, 9};
        GradCheck.check(t -> DropoutOp.forward(t, x, 0.4f, 42, 3, keys), List.of(x), 1e-2, 1e-3);
    }

    /** Law 5: a row keyed 42 gets the same mask alone or at position 2 of a batch of 4. */
    @Test
    void maskDependsOnlyOnTheKeyNotOnTheBatch() {
        int c = 64;
        Tensor row = GradCheck.random(2, 1f, 1, c);
        Tensor batch = GradCheck.random(3, 1f, 4, c);
        float[] b = batch.toArray();
        System.arraycopy(row.toArray(), 0, b, 2 * c, c);
        batch.copyFrom(b);
        try (Compute compute = new Compute(2)) {
            Tape tape = new Tape(compute, new Arena());
            float[] alone = DropoutOp.forward(tape, row, 0.5f, 9, 1, new long[] {42}).toArray();
            float[] inBatch = DropoutOp.forward(tape, batch, 0.5f, 9, 1, new long[] {5, 6, 42, 8}).toArray();
            assertArrayEquals(EmbeddingOpTest.bits(alone), EmbeddingOpTest.bits(Arrays.copyOfRange(inBatch, 2 * c, 3 * c)));
            // another layer or seed gives another mask
            float[] otherLayer = DropoutOp.forward(tape, row, 0.5f, 9, 2, new long[] {42}).toArray();
            float[] otherSeed = DropoutOp.forward(tape, row, 0.5f, 10, 1, new long[] {42}).toArray();
            assertNotEquals(Arrays.toString(alone), Arrays.toString(otherLayer));
            assertNotEquals(Arrays.toString(alone), Arrays.toString(otherSeed));
        }
    }

    /** Law 5 with the epoch: the tape's epoch is part of the key, so an example gets a fresh mask each epoch. */
    @Test
    void eachEpochGivesAFreshMaskAndEpochZeroKeysAsTheLayerAlone() {
        int c = 256;
        Tensor row = GradCheck.random(4, 1f, 1, c);
        long[] key = {42};
        try (Compute compute = new Compute(1)) {
            Tape tape = new Tape(compute, new Arena());
            float[] epoch0 = DropoutOp.forward(tape, row, 0.5f, 9, 1, key).toArray();
            tape.setEpoch(1);
            float[] epoch1 = DropoutOp.forward(tape, row, 0.5f, 9, 1, key).toArray();
            tape.setEpoch(1);
            float[] again = DropoutOp.forward(tape, row, 0.5f, 9, 1, key).toArray();
            assertNotEquals(Arrays.toString(epoch0), Arrays.toString(epoch1), "a fresh mask in epoch 1");
            assertArrayEquals(EmbeddingOpTest.bits(epoch1), EmbeddingOpTest.bits(again), "the same mask within it");
            assertEquals(1, tape.region().epoch(), "a checkpointed block's recomputation keys the same epoch");
            for (int j = 0; j < c; j++) {
                boolean kept = !(io.accrue.tensor.KeyedRandom.unitFloat(io.accrue.tensor.KeyedRandom.hash(9, 1, 42, j))
                        < 0.5f);
                assertEquals(kept, epoch0[j] != 0f, "epoch 0 keys (seed, layer, row, column) as before, column " + j);
                assertEquals(kept, DropoutOp.kept(9, DropoutOp.site(0, 1), 42, j, 0.5f));
            }
        }
    }

    @Test
    void dropRateIsPAndKeptValuesAreScaled() {
        int rows = 200;
        int c = 500;
        float p = 0.3f;
        Tensor x = Tensor.zeros(rows, c);
        x.fill(1f);
        long[] keys = new long[rows];
        for (int r = 0; r < rows; r++) {
            keys[r] = 1000L * r;
        }
        try (Compute compute = new Compute(1)) {
            Tape tape = new Tape(compute, new Arena());
            float[] y = DropoutOp.forward(tape, x, p, 1, 0, keys).toArray();
            int dropped = 0;
            for (float v : y) {
                if (v == 0f) {
                    dropped++;
                } else {
                    assertEquals(1f / (1f - p), v);
                }
            }
            assertEquals(p, dropped / (double) y.length, 0.01); // σ ≈ 0.002 for 100k elements
        }
    }

    @Test
    void evalModeAndZeroPAreTheIdentity() {
        try (Compute compute = new Compute(1)) {
            Tape tape = new Tape(compute, new Arena());
            Tensor x = GradCheck.random(4, 1f, 3, 4);
            long[] keys = {1, 2, 3};
            assertSame(x, DropoutOp.forward(tape, x, 0f, 1, 0, keys));
            tape.setTraining(false);
            assertSame(x, DropoutOp.forward(tape, x, 0.5f, 1, 0, keys));
            assertEquals(0, tape.size());
        }
    }

    @Test
    void badArgumentsAreNamed() {
        try (Compute compute = new Compute(1)) {
            Tape tape = new Tape(compute, new Arena());
            Tensor x = Tensor.zeros(3, 4);
            for (float p : new float[] {1f, -0.1f, Float.NaN}) {
                var e = assertThrows(IllegalArgumentException.class,
                        () -> DropoutOp.forward(tape, x, p, 1, 0, new long[3]));
                assertTrue(e.getMessage().contains("p = " + p), e.getMessage());
            }
            var e = assertThrows(IllegalArgumentException.class,
                    () -> DropoutOp.forward(tape, x, 0.1f, 1, 0, new long[2]));
            assertTrue(e.getMessage().contains("2 row keys") && e.getMessage().contains("3 rows"), e.getMessage());
        }
    }
}
