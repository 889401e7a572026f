package io.accrue.run;

import io.accrue.autograd.Loss;
import io.accrue.autograd.Tape;
import io.accrue.data.TokenWindows;
import io.accrue.models.Model;
import io.accrue.models.TokenBatch;
import io.accrue.tensor.Tensor;

import java.util.Arrays;

/**
 * The validation loss of a language model: the per-token mean loss over a fixed subset of {@code val.bin} — the
 * same full windows of T+1 tokens every time, spread evenly over the shard.
 *
 * <p>It runs the model's forward pass in eval mode (dropout off) on the trainer's tape, between optimizer steps, and
 * touches no weight, gradient, optimizer state or data position, so training goes on exactly as without it. The loss
 * is the sum of every token's loss in window order, in double, divided by the token count: the micro-batch size the
 * windows are cut into does not change it, so it is the same for every split of the same run.
 *
 * @param windows the validation shard's windows
 * @param indices the windows scored, ascending
 */
public record Validation(TokenWindows windows, int[] indices) {

    /**
     * About {@code tokens} tokens of {@code windows}: ⌊tokens / T⌋ full windows (at least 1, at most all), evenly
     * spaced.
     *
     * @throws IllegalArgumentException when the shard holds no full window of T+1 tokens
     */
    public static Validation of(TokenWindows windows, long tokens, String fix) {
        int full = windows.fullWindows();
        int t = windows.seq();
        if (full < 1) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "%s holds %,d tokens, fewer than "
                    + "one validation sequence of T+1 = %,d; %s", windows.tokens().file(), windows.tokens().size(),
                    t + 1, fix));
        }
        int n = (int) Math.max(1, Math.min(full, tokens / t));
        int[] idx = new int[n];
        for (int j = 0; j < n; j++) {
            idx[j] = (int) ((long) j * full / n);
        }
        return new Validation(windows, idx);
    }

    /** Tokens scored: windows × T. */
    public long tokens() {
        return (long) indices.length * windows.seq();
    }

    /**
     * The mean loss per token of {@code model} on the windows, in micro-batches of {@code batch} on {@code tape},
     * in eval mode; the tape's mode is restored and its arena reset.
     */
    public double loss(Model<TokenBatch> model, Tape tape, int batch) {
        boolean training = tape.training();
        tape.setTraining(false);
        double sum = 0;
        long count = 0;
        try {
            for (int from = 0; from < indices.length; from += batch) {
                int[] part = Arrays.copyOfRange(indices, from, Math.min(indices.length, from + batch));
                Loss loss = model.loss(tape, windows.batch(part));
                Tensor rows = loss.rows();
                for (int i = 0; i < rows.size(); i++) {
                    sum += rows.get(i);
                }
                count += loss.count();
                tape.reset();
            }
        } finally {
            tape.reset();
            tape.setTraining(training);
        }
        return sum / count;
    }
}
