package io.accrue.models;

import io.accrue.autograd.Tape;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Tensor;

import java.util.Arrays;

/**
 * Text generation with a {@link Gpt} and a {@link KvCache}: the prompts go through the model once, together, then
 * each new token costs one position per sequence ({@link Gpt#logits(Tape, KvCache, int[], int[])}), not a pass over
 * its prefix. The {@link Sampler} picks each token.
 *
 * <p>A sequence stops after {@code newTokens} new tokens or at the model's context: with T positions, a prompt of n
 * tokens gets at most T − n + 1 (the last one is emitted, never fed back). The cache is sized for the longest
 * sequence and taken from the tape's arena, each pass's activations released back to a mark after it; the tape runs
 * in eval mode (dropout off), and is reset and given its mode back at the end.
 */
public final class Decoding {
    private Decoding() {
    }

    /** Appends up to {@code newTokens} argmax tokens to each prompt and returns the new tokens only. */
    public static int[][] greedy(Gpt model, Tape tape, int[][] prompts, int newTokens) {
        return generate(model, tape, prompts, newTokens, Sampler.greedy());
    }

    /**
     * Continues each prompt (1 to T tokens) by up to {@code newTokens} tokens picked by {@code sampler} (new token j of
     * prompt i is its draw (i, j)) and returns the new tokens only: row i holds {@code min(newTokens, T − n_i + 1)}.
     */
    public static int[][] generate(Gpt model, Tape tape, int[][] prompts, int newTokens, Sampler sampler) {
        int[] limits = limits(model.config(), prompts, newTokens);
        int[][] out = new int[prompts.length][];
        for (int i = 0; i < prompts.length; i++) {
            out[i] = new int[limits[i]];
        }
        if (newTokens == 0) {
            return out;
        }
        int vocab = model.config().vocab();
        boolean wasTraining = tape.training();
        tape.setTraining(false);
        try {
            Prompted p = prompt(model, tape, prompts, limits);
            Tensor logits = p.logits();
            int[] active = new int[prompts.length];
            Arrays.setAll(active, i -> i);
            int[] last = new int[prompts.length];
            for (int j = 0; ; j++) {
                for (int a = 0; a < active.length; a++) {
                    int i = active[a];
                    out[i][j] = sampler.next(logits.data(), logits.offset() + a * vocab, vocab, i, j);
                    last[a] = out[i][j];
                }
                tape.resetTo(p.afterCache());
                int still = 0;
                for (int a = 0; a < active.length; a++) {
                    if (j + 1 < limits[active[a]]) {
                        last[still] = last[a];
                        active[still++] = active[a];
                    }
                }
                if (still == 0) {
                    return out;
                }
                active = Arrays.copyOf(active, still);
                logits = model.logits(tape, p.cache(), Arrays.copyOf(last, still), active); // (still, V)
            }
        } finally {
            tape.reset();
            tape.setTraining(wasTraining);
        }
    }

    /**
     * What {@link #generate} allocates from the arena at its peak — the cache and the prompts' pass — on a
     * {@link Tape#planning() planning} tape, for the memory planner: prompts of {@code promptLengths} tokens.
     */
    public static void plan(Gpt model, Tape tape, int[] promptLengths, int newTokens) {
        if (!tape.planning()) {
            throw new IllegalArgumentException("plan needs a planning tape");
        }
        int[][] prompts = new int[promptLengths.length][];
        Arrays.setAll(prompts, i -> new int[promptLengths[i]]);
        boolean wasTraining = tape.training();
        tape.setTraining(false);
        prompt(model, tape, prompts, limits(model.config(), prompts, newTokens));
        tape.reset();
        tape.setTraining(wasTraining);
    }

    /** The cache, the arena's mark after it, and the logits (B, V) of each prompt's last token. */
    private record Prompted(KvCache cache, Arena.Mark afterCache, Tensor logits) {
    }

    /** Allocates the cache for sequences of {@code prompts} and {@code limits} new tokens, and runs the prompts. */
    private static Prompted prompt(Gpt model, Tape tape, int[][] prompts, int[] limits) {
        KvCache cache = new KvCache(tape, model.config(), prompts.length, capacity(prompts, limits));
        Arena.Mark afterCache = tape.arena().mark();
        return new Prompted(cache, afterCache, model.logits(tape, cache, promptTokens(prompts),
                promptSequences(prompts)));
    }

    /** New tokens per prompt: {@code min(newTokens, T − n + 1)}; prompts must hold 1 to T tokens. */
    private static int[] limits(GptConfig config, int[][] prompts, int newTokens) {
        if (prompts.length == 0 || newTokens < 0) {
            throw new IllegalArgumentException("need at least one prompt and newTokens ≥ 0, got " + prompts.length
                    + " prompts, " + newTokens + " tokens");
        }
        int[] limits = new int[prompts.length];
        for (int i = 0; i < prompts.length; i++) {
            int n = prompts[i].length;
            if (n == 0 || n > config.context()) {
                throw new IllegalArgumentException("prompt " + i + " has " + n + " tokens; it needs 1 to "
                        + config.context() + " (the model's context)");
            }
            limits[i] = Math.min(newTokens, config.context() - n + 1);
        }
        return limits;
    }

    /** Positions the longest sequence feeds: its prompt and all its new tokens but the last. */
    private static int capacity(int[][] prompts, int[] limits) {
        int capacity = 1;
        for (int i = 0; i < prompts.length; i++) {
            capacity = Math.max(capacity, prompts[i].length + limits[i] - 1);
        }
        return capacity;
    }

    /** The prompts' tokens one after the other: the rows of the first pass. */
    private static int[] promptTokens(int[][] prompts) {
        return Arrays.stream(prompts).flatMapToInt(Arrays::stream).toArray();
    }

    /** The sequence of each row of the first pass. */
    private static int[] promptSequences(int[][] prompts) {
        int[] seqs = new int[Arrays.stream(prompts).mapToInt(p -> p.length).sum()];
        for (int i = 0, r = 0; i < prompts.length; i++) {
            Arrays.fill(seqs, r, r + prompts[i].length, i);
            r += prompts[i].length;
        }
        return seqs;
    }
}
