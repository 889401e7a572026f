package io.accrue.run;

import io.accrue.autograd.Tape;
import io.accrue.data.FeatureDataset;
import io.accrue.models.FeatureBatch;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;

import java.util.function.BiFunction;

/**
 * Classification accuracy in evaluation mode ({@link Tape#setTraining(boolean) training off}: dropout off, batch
 * norm on running statistics), over a dataset in order, in batches; the tape records nothing that is kept.
 */
public final class Accuracy {
    private Accuracy() {
    }

    /**
     * Fraction of examples whose largest logit (first on ties) is the label.
     *
     * @param logits maps a batch to its (B, classes) logits, e.g. {@code cnn::logits}
     */
    public static double evaluate(Compute compute, BiFunction<Tape, FeatureBatch, Tensor> logits,
                                  FeatureDataset data, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        Tape tape = new Tape(compute, new Arena());
        tape.setTraining(false);
        long correct = 0;
        for (int start = 0; start < data.size(); start += batchSize) {
            int b = Math.min(batchSize, data.size() - start);
            int[] idx = new int[b];
            for (int i = 0; i < b; i++) {
                idx[i] = start + i;
            }
            FeatureBatch batch = data.batch(idx);
            Tensor y = logits.apply(tape, batch); // (B, classes)
            int v = y.cols();
            for (int r = 0; r < b; r++) {
                int best = 0;
                for (int j = 1; j < v; j++) {
                    if (y.get(r * v + j) > y.get(r * v + best)) {
                        best = j;
                    }
                }
                if (best == batch.labels()[r]) {
                    correct++;
                }
            }
            tape.reset();
        }
        return (double) correct / data.size();
    }
}
