package io.accrue.data;

import io.accrue.models.TokenBatch;

import java.util.List;

/**
 * Token sequences of up to T+1 tokens each, trained as next-token prediction, optionally on a completion only.
 *
 * <p>A shorter sequence is padded (input 0, target {@link TokenBatch#IGNORE}), and the targets of positions
 * that predict a prompt token are ignored too, so neither contributes loss, gradient or count: the loss is
 * normalized by the number of trained tokens in the window (law 2).
 */
public final class SequenceDataset implements Dataset<TokenBatch> {

    /**
     * One example.
     *
     * @param tokens       prompt followed by completion (the whole sequence when promptLength is 1)
     * @param promptLength how many leading tokens are not predicted (≥ 1: the first token never is)
     */
    public record Example(int[] tokens, int promptLength) {
        public Example {
            if (tokens.length < 2) {
                throw new IllegalArgumentException("a sequence of " + tokens.length + " tokens has nothing to predict; "
                        + "each needs at least 2");
            }
            if (promptLength < 1 || promptLength >= tokens.length) {
                throw new IllegalArgumentException("prompt length " + promptLength + " must be in [1, "
                        + tokens.length + ") for a sequence of " + tokens.length + " tokens");
            }
        }
    }

    private final List<Example> examples;
    private final int seq;

    /** Whole sequences, every next token trained. @param seq T, the length every micro-batch is padded to */
    public SequenceDataset(List<int[]> sequences, int seq) {
        this(sequences.stream().map(s -> new Example(s, 1)).toArray(Example[]::new), seq);
    }

    /** Prompt + completion examples, trained on the completion only. */
    public static SequenceDataset completions(List<Example> examples, int seq) {
        return new SequenceDataset(examples.toArray(Example[]::new), seq);
    }

    private SequenceDataset(Example[] examples, int seq) {
        if (examples.length == 0) {
            throw new IllegalArgumentException("no sequences");
        }
        for (int i = 0; i < examples.length; i++) {
            int n = examples[i].tokens().length;
            if (n > seq + 1) {
                throw new IllegalArgumentException("sequence " + i + " has " + n + " tokens; each needs 2.."
                        + (seq + 1) + " for context " + seq);
            }
        }
        this.examples = List.of(examples);
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
