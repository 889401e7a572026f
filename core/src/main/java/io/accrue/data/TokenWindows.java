package io.accrue.data;

import io.accrue.models.TokenBatch;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A token stream as next-token-prediction examples: example i is the window of T+1 tokens starting at token i·T
 * (stride T, so every token after the first is a target exactly once per epoch); the last window may be shorter and
 * is padded like {@link SequenceDataset}'s (input 0, target {@link TokenBatch#IGNORE}). The window of the example at
 * (step, micro-batch, position) is therefore a pure function of the seed: the trainer's keyed epoch order
 * ({@link EpochOrder}) picks the index from (seed, epoch, position in the epoch), which the split into micro-batches
 * does not change (law 5).
 *
 * <p>Tokens are read from the {@link TokenShard} (memory-mapped) when a micro-batch is built, after checking that
 * its file is as it was mapped ({@link TokenShard#checkUnchanged}); an id outside the vocabulary is an error naming
 * the shard and the position.
 */
public final class TokenWindows implements Dataset<TokenBatch> {
    private final TokenShard tokens;
    private final int seq;
    private final int vocab;
    private final int size;
    /** The SHA-256 the shard must still have, or null. */
    private final String sha256;
    /** Windows read so far: a content check in each batch that reads the window numbered a multiple of {@link #size}. */
    private final AtomicLong served = new AtomicLong();

    /** The windows of {@code tokens}, checked before each batch with {@link TokenShard#checkUnchanged} only. */
    public TokenWindows(TokenShard tokens, int seq, int vocab) {
        this(tokens, seq, vocab, null);
    }

    /**
     * The windows of {@code tokens}.
     *
     * @param seq    T
     * @param vocab  V: every id read must be below it
     * @param sha256 the SHA-256 the shard was prepared with ({@code meta.json}'s), checked at the first batch and
     *               once per epoch's worth of windows after ({@link TokenShard#checkContent}); null: none
     * @throws IllegalArgumentException when the shard holds fewer than 2 tokens or more windows than an int counts
     */
    public TokenWindows(TokenShard tokens, int seq, int vocab, String sha256) {
        if (seq <= 0) {
            throw new IllegalArgumentException("sequence length must be positive, got " + seq);
        }
        long n = tokens.size();
        if (n < 2) {
            throw new IllegalArgumentException(tokens.file() + " holds " + n + " token" + (n == 1 ? "" : "s")
                    + "; training needs at least 2 (ideally many times the context " + seq + ")");
        }
        long windows = (n - 1 + seq - 1) / seq;
        if (windows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(tokens.file() + ": " + windows + " windows of " + seq + " tokens "
                    + "exceed 2^31-1; use a longer --context");
        }
        this.tokens = tokens;
        this.seq = seq;
        this.vocab = vocab;
        this.size = (int) windows;
        this.sha256 = sha256;
    }

    @Override
    public int size() {
        return size;
    }

    /** T. */
    public int seq() {
        return seq;
    }

    /** The shard read. */
    public TokenShard tokens() {
        return tokens;
    }

    /** Windows that hold all T+1 tokens (all but possibly the last). */
    public int fullWindows() {
        return (int) ((tokens.size() - 1) / seq);
    }

    /**
     * {@inheritDoc}
     *
     * @throws EnvironmentException when the shard's file was deleted, replaced or changed since it was mapped (a
     *                              truncated mapping would fault on a read), or no longer has its SHA-256
     */
    @Override
    public TokenBatch batch(int[] indices) {
        tokens.checkUnchanged();
        long before = served.getAndAdd(indices.length);
        long epochStart = (before + size - 1) / size * size; // the next window that starts an epoch's worth
        if (sha256 != null && epochStart < before + indices.length) {
            tokens.checkContent(sha256);
        }
        try {
            return read(indices);
        } catch (InternalError e) {
            throw tokens.faulted(e); // the file was cut short between the check and the read: SIGBUS
        }
    }

    private TokenBatch read(int[] indices) {
        int b = indices.length;
        int[] in = new int[b * seq];
        int[] tg = new int[b * seq];
        long[] ids = new long[b];
        long n = tokens.size();
        for (int i = 0; i < b; i++) {
            if (indices[i] < 0 || indices[i] >= size) {
                throw new IndexOutOfBoundsException("window " + indices[i] + " of " + size);
            }
            long start = (long) indices[i] * seq;
            int len = (int) Math.min(seq + 1, n - start); // 2..T+1 tokens
            ids[i] = indices[i];
            int prev = read(start);
            for (int t = 0; t < seq; t++) {
                in[i * seq + t] = t < len ? prev : 0;
                if (t + 1 < len) {
                    int next = read(start + t + 1);
                    tg[i * seq + t] = next;
                    prev = next;
                } else {
                    tg[i * seq + t] = TokenBatch.IGNORE;
                }
            }
        }
        return new TokenBatch(in, tg, ids, b, seq);
    }

    private int read(long i) {
        int id = tokens.get(i);
        if (id >= vocab) {
            throw new IllegalArgumentException(tokens.file() + ": token id " + id + " at position " + i + " is outside "
                    + "the model's vocabulary of " + vocab + "; the shard was made by another tokenizer — prepare "
                    + "the data again with the run's tokenizer");
        }
        return id;
    }
}
