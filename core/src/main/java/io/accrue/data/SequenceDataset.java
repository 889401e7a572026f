package io.accrue.data;

import io.accrue.models.TokenBatch;

import java.util.List;

/**
 * Token sequences of up to T+1 tokens each, trained as next-token prediction. A shorter sequence is padded:
 * input 0, target {@link TokenBatch#IGNORE}, so padding contributes neither loss nor gradient nor count.
 */
public final class SequenceDataset implements Dataset<TokenBatch> {
    private final List<int[]> sequences;
    private final int seq;

    /** @param seq T, the length every micro-batch is padded to */
    public SequenceDataset(List<int[]> sequences, int seq) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("no sequences");
        }
        for (int i = 0; i < sequences.size(); i++) {
            int n = sequences.get(i).length;
            if (n < 2 || n > seq + 1) {
                throw new IllegalArgumentException("sequence " + i + " has " + n + " tokens; each needs 2.." + (seq + 1)
                        + " for context " + seq);
            }
        }
        this.sequences = List.copyOf(sequences);
        this.seq = seq;
    }

    @Override
    public int size() {
        return sequences.size();
    }

    public int seq() {
        return seq;
    }

    @Override
    public TokenBatch batch(int[] indices) {
        int b = indices.length;
        int[] in = new int[b * seq];
        int[] tg = new int[b * seq];
        long[] ids = new long[b];
        for (int i = 0; i < b; i++) {
            int[] s = sequences.get(indices[i]);
            ids[i] = indices[i];
            for (int t = 0; t < seq; t++) {
                boolean real = t + 1 < s.length;
                in[i * seq + t] = t < s.length ? s[t] : 0;
                tg[i * seq + t] = real ? s[t + 1] : TokenBatch.IGNORE;
            }
        }
        return new TokenBatch(in, tg, ids, b, seq);
    }
}
