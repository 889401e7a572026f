package io.accrue.data;

import io.accrue.models.TokenBatch;

import java.util.List;

/**
 * Prompt + completion sequences trained as next-token prediction on the completion only: the targets of
 * positions that predict a prompt token are {@link TokenBatch#IGNORE}, so the loss is normalized by the number of
 * completion tokens in the window (law 2). Shorter sequences are padded like {@link SequenceDataset}.
 */
public final class CompletionDataset implements Dataset<TokenBatch> {

    /**
     * One example.
     *
     * @param tokens       prompt followed by completion
     * @param promptLength how many leading tokens are the prompt (≥ 1)
     */
    public record Example(int[] tokens, int promptLength) {
        public Example {
            if (promptLength < 1 || promptLength >= tokens.length) {
                throw new IllegalArgumentException("prompt length " + promptLength + " must be in [1, "
                        + tokens.length + ") for a sequence of " + tokens.length + " tokens");
            }
        }
    }

    private final List<Example> examples;
    private final int seq;

    /** @param seq T, the length every micro-batch is padded to (the longest example has T+1 tokens at most) */
    public CompletionDataset(List<Example> examples, int seq) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("no examples");
        }
        for (int i = 0; i < examples.size(); i++) {
            if (examples.get(i).tokens().length > seq + 1) {
                throw new IllegalArgumentException("example " + i + " has " + examples.get(i).tokens().length
                        + " tokens; at most " + (seq + 1) + " fit context " + seq);
            }
        }
        this.examples = List.copyOf(examples);
        this.seq = seq;
    }

    @Override
    public int size() {
        return examples.size();
    }

    public int seq() {
        return seq;
    }

    public Example example(int i) {
        return examples.get(i);
    }

    @Override
    public TokenBatch batch(int[] indices) {
        int b = indices.length;
        int[] in = new int[b * seq];
        int[] tg = new int[b * seq];
        long[] ids = new long[b];
        for (int i = 0; i < b; i++) {
            Example e = examples.get(indices[i]);
            int[] s = e.tokens();
            ids[i] = indices[i];
            for (int t = 0; t < seq; t++) {
                boolean trained = t + 1 < s.length && t + 1 >= e.promptLength();
                in[i * seq + t] = t < s.length ? s[t] : 0;
                tg[i * seq + t] = trained ? s[t + 1] : TokenBatch.IGNORE;
            }
        }
        return new TokenBatch(in, tg, ids, b, seq);
    }
}
