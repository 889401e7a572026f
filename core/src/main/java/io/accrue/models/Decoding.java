package io.accrue.models;

import io.accrue.autograd.Tape;
import io.accrue.tensor.KeyedRandom;
import io.accrue.tensor.Tensor;

import java.util.Arrays;

/**
 * Text generation with a {@link Gpt}: greedy (argmax) or temperature sampling, one token at a time.
 *
 * <p>Each new token re-runs the forward pass over the whole prefix (no key/value cache: these are small models).
 * Prompts of different lengths share a batch by right padding: attention is causal, so the logits at a row's
 * last real position do not see the padding. Prefixes longer than the context keep their last T tokens.
 * Runs in eval mode (dropout off) and restores the tape's mode; the tape is reset after every forward pass.
 */
public final class Decoding {
    private Decoding() {
    }

    /** Appends {@code newTokens} argmax tokens to each prompt and returns the new tokens only, (B, newTokens). */
    public static int[][] greedy(Gpt model, Tape tape, int[][] prompts, int newTokens) {
        return generate(model, tape, prompts, newTokens, 0, 0);
    }

    /**
     * Like {@link #greedy} but samples from softmax(logits / temperature); temperature 0 is greedy. Draw j of row
     * i is keyed by (seed, i, j), so the output is a pure function of its inputs.
     */
    public static int[][] generate(Gpt model, Tape tape, int[][] prompts, int newTokens, double temperature,
                                   long seed) {
        int b = prompts.length;
        if (b == 0 || newTokens < 0) {
            throw new IllegalArgumentException("need at least one prompt and newTokens ≥ 0, got " + b + " prompts, "
                    + newTokens + " tokens");
        }
        int context = model.config().context();
        int vocab = model.config().vocab();
        int[][] seqs = new int[b][];
        for (int i = 0; i < b; i++) {
            if (prompts[i].length == 0) {
                throw new IllegalArgumentException("prompt " + i + " is empty");
            }
            seqs[i] = prompts[i].clone();
        }
        int[][] out = new int[b][newTokens];
        boolean wasTraining = tape.training();
        tape.setTraining(false);
        try {
            for (int j = 0; j < newTokens; j++) {
                int t = 0;
                for (int[] s : seqs) {
                    t = Math.max(t, Math.min(s.length, context));
                }
                int[] in = new int[b * t];
                long[] ids = new long[b];
                int[] last = new int[b];
                for (int i = 0; i < b; i++) {
                    int n = Math.min(seqs[i].length, t);
                    System.arraycopy(seqs[i], seqs[i].length - n, in, i * t, n);
                    last[i] = n - 1;
                    ids[i] = i;
                }
                Tensor logits = model.logits(tape, new TokenBatch(in, new int[b * t], ids, b, t)); // (B·T, V)
                for (int i = 0; i < b; i++) {
                    int row = (i * t + last[i]) * vocab;
                    int next = temperature > 0 ? sample(logits, row, vocab, temperature, seed, i, j)
                            : argmax(logits, row, vocab);
                    out[i][j] = next;
                    int[] grown = Arrays.copyOf(seqs[i], seqs[i].length + 1);
                    grown[seqs[i].length] = next;
                    seqs[i] = grown;
                }
                tape.reset();
            }
        } finally {
            tape.reset();
            tape.setTraining(wasTraining);
        }
        return out;
    }

    private static int argmax(Tensor logits, int row, int vocab) {
        int best = 0;
        float max = logits.get(row);
        for (int v = 1; v < vocab; v++) {
            float x = logits.get(row + v);
            if (x > max) {
                max = x;
                best = v;
            }
        }
        return best;
    }

    private static int sample(Tensor logits, int row, int vocab, double temperature, long seed, int i, int j) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < vocab; v++) {
            max = Math.max(max, logits.get(row + v));
        }
        double[] p = new double[vocab];
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            p[v] = Math.exp((logits.get(row + v) - max) / temperature);
            sum += p[v];
        }
        double u = KeyedRandom.unitDouble(KeyedRandom.hash(seed, 0x5a4d, i, j)) * sum;
        for (int v = 0; v < vocab; v++) {
            u -= p[v];
            if (u < 0) {
                return v;
            }
        }
        return vocab - 1;
    }
}
