package io.accrue.models;

/**
 * A micro-batch of token sequences.
 *
 * @param inputs     (B, T) input token ids, row-major
 * @param targets    (B, T) next-token ids; {@link #IGNORE} marks padding that contributes nothing
 * @param exampleIds (B) each sequence's index in the dataset (keys dropout with the epoch, law 5)
 * @param batch      B
 * @param seq        T
 */
public record TokenBatch(int[] inputs, int[] targets, long[] exampleIds, int batch, int seq) {
    /** Target value of positions that are not trained on (padding). */
    public static final int IGNORE = -1;

    public TokenBatch {
        if (batch <= 0 || seq <= 0 || inputs.length != batch * seq || targets.length != batch * seq
                || exampleIds.length != batch) {
            throw new IllegalArgumentException("token batch of B=" + batch + ", T=" + seq + " needs " + batch * seq
                    + " inputs/targets and " + batch + " ids, got " + inputs.length + "/" + targets.length + "/"
                    + exampleIds.length);
        }
    }
}
