package io.accrue.models;

import io.accrue.autograd.AddOp;
import io.accrue.autograd.AttentionOp;
import io.accrue.autograd.CheckpointOp;
import io.accrue.autograd.DropoutOp;
import io.accrue.autograd.EmbeddingOp;
import io.accrue.autograd.GeluOp;
import io.accrue.autograd.LinearOp;
import io.accrue.autograd.Loss;
import io.accrue.autograd.SoftmaxCrossEntropyOp;
import io.accrue.autograd.Tape;
import io.accrue.nn.Init;
import io.accrue.nn.LayerNorm;
import io.accrue.nn.Linear;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * GPT-2 style decoder: token + position embeddings, L pre-LayerNorm blocks (causal self-attention, GELU MLP
 * 4×), final LayerNorm, and an LM head tied to the token embedding. Parameter names are Hugging Face GPT-2's
 * ({@code wte.weight}, {@code h.0.attn.c_attn.weight}, …); weights are (out, in) in memory. The four matrices of
 * a block are GPT-2's {@code Conv1D} layers, which Hugging Face stores (in, out): they are declared
 * {@link ParameterStore#storeTransposed stored transposed}, so a checkpoint loads into {@code GPT2LMHeadModel} as
 * it is.
 *
 * <p>The head is a second use of {@code wte.weight}, so it gets its own gradient slot
 * ({@link ParameterStore#tie}) and the two sums over tokens never interleave (law 3).
 */
public final class Gpt implements Model<TokenBatch> {

    private record Block(LayerNorm ln1, Linear attn, Linear attnProj, LayerNorm ln2, Linear fc, Linear mlpProj) {
    }

    private final GptConfig config;
    private final long seed;
    private final ParameterStore store;
    private final List<Block> blocks = new ArrayList<>();
    private final LayerNorm lnF;
    private final String tiedHead;
    /** Position ids of the last (B, T), replaced whole: micro-batches running at once read it concurrently. */
    private volatile Positions positions = new Positions(0, new int[0]);
    private boolean checkpointActivations;

    public Gpt(GptConfig config, long seed) {
        this(config, seed, new ParameterStore());
    }

    /**
     * A Gpt with the parameter shapes and layout of {@code config} and no weights ({@link ParameterStore#shapesOnly}):
     * for dry runs ({@code MemoryPlanner}), at no cost in memory; it cannot be trained.
     */
    public static Gpt shapesOnly(GptConfig config) {
        return new Gpt(config, 0, ParameterStore.shapesOnly());
    }

    private Gpt(GptConfig config, long seed, ParameterStore store) {
        this.config = config;
        this.seed = seed;
        this.store = store;
        int c = config.width();
        double std = 0.02;
        double projStd = 0.02 / Math.sqrt(2.0 * config.layers());
        store.declare("wte.weight", new int[] {config.vocab(), c}, true, Init.normal(seed, "wte.weight", std));
        store.declare("wpe.weight", new int[] {config.context(), c}, true, Init.normal(seed, "wpe.weight", std));
        for (int l = 0; l < config.layers(); l++) {
            String h = "h." + l;
            blocks.add(new Block(
                    new LayerNorm(store, h + ".ln_1", c),
                    conv1d(h + ".attn.c_attn", c, 3 * c, std),
                    conv1d(h + ".attn.c_proj", c, c, projStd),
                    new LayerNorm(store, h + ".ln_2", c),
                    conv1d(h + ".mlp.c_fc", c, 4 * c, std),
                    conv1d(h + ".mlp.c_proj", 4 * c, c, projStd)));
        }
        lnF = new LayerNorm(store, "ln_f", c);
        tiedHead = store.tie("wte.weight");
        store.allocate();
    }

    /** A linear layer GPT-2 implements as {@code Conv1D}: its weight is stored (in, out). */
    private Linear conv1d(String name, int in, int out, double std) {
        Linear l = new Linear(store, name, in, out, true, Init.normal(seed, name, std));
        store.storeTransposed(name + ".weight");
        return l;
    }

    public GptConfig config() {
        return config;
    }

    @Override
    public ParameterStore parameters() {
        return store;
    }

    /** Next-token logits (B·T, V) of a batch. */
    public Tensor logits(Tape tape, TokenBatch batch) {
        int b = batch.batch();
        int t = batch.seq();
        if (t > config.context()) {
            throw new IllegalArgumentException("sequence length " + t + " exceeds the model's context "
                    + config.context());
        }
        long[] rowKeys = config.dropout() > 0 && tape.training() ? rowKeys(batch) : null;
        Tensor x = AddOp.forward(tape,
                EmbeddingOp.forward(tape, batch.inputs(), store.tensor("wte.weight")),
                EmbeddingOp.forward(tape, positions(b, t), store.tensor("wpe.weight")));  // (B·T, C)
        x = DropoutOp.forward(tape, x, config.dropout(), seed, 0, rowKeys);
        int c = config.width();
        Attention causal = (inner, qkv) -> AttentionOp.forward(inner, qkv.reshape(b, t, 3 * c), config.heads())
                .reshape(b * t, c);
        for (int l = 0; l < blocks.size(); l++) {
            Block blk = blocks.get(l);
            int site = 1 + 2 * l;
            x = checkpointActivations
                    ? CheckpointOp.forward(tape, x, (inner, in) -> block(inner, blk, in, causal, site, rowKeys))
                    : block(tape, blk, x, causal, site, rowKeys);
        }
        return LinearOp.forward(tape, lnF.forward(tape, x), store.tensor(tiedHead), null);
    }

    /**
     * Next-token logits of new rows appended to the sequences of {@code cache}: a forward pass over those rows only,
     * each attending to its sequence's cached keys and values (eval mode: no dropout). Row r is token
     * {@code tokens[r]} of sequence {@code sequences[r]} at that sequence's next position, the rows of a sequence in
     * order (a prompt is many rows of one sequence; a decoding step one row per sequence). Returns (S, V): the logits
     * of each sequence's last row in this call, in row order — the same bits as that position's row of
     * {@link #logits(Tape, TokenBatch)} over the whole prefix, since every kernel computes a row from that row and
     * its prefix alone, in an order fixed by the sizes.
     */
    public Tensor logits(Tape tape, KvCache cache, int[] tokens, int[] sequences) {
        if (tokens.length != sequences.length) {
            throw new IllegalArgumentException(tokens.length + " tokens for " + sequences.length + " sequence ids");
        }
        if (tape.training() && config.dropout() > 0) {
            throw new IllegalStateException("cached logits are for decoding: set the tape to eval mode");
        }
        int[] positions = cache.append(sequences);
        Tensor x = AddOp.forward(tape,
                EmbeddingOp.forward(tape, tokens, store.tensor("wte.weight")),
                EmbeddingOp.forward(tape, positions, store.tensor("wpe.weight")));  // (R, C)
        for (int l = 0; l < blocks.size(); l++) {
            int layer = l;
            x = block(tape, blocks.get(l), x, (inner, qkv) -> cache.attend(inner, layer, qkv, sequences, positions),
                    1 + 2 * l, null);
        }
        int[] last = lastRows(sequences, cache.sequences());
        Tensor h = last.length == tokens.length ? x : EmbeddingOp.forward(tape, last, x); // (S, C): those rows
        return LinearOp.forward(tape, lnF.forward(tape, h), store.tensor(tiedHead), null);
    }

    /** The rows that are the last of their sequence ({@code sequences[r]} in [0, S)), ascending. */
    private static int[] lastRows(int[] sequences, int s) {
        int[] lastOf = new int[s];
        for (int r = 0; r < sequences.length; r++) {
            lastOf[sequences[r]] = r;
        }
        return IntStream.range(0, sequences.length).filter(r -> lastOf[sequences[r]] == r).toArray();
    }

    /** Self-attention of a block: (N, 3C) q, k, v rows on {@code tape} → (N, C). */
    @FunctionalInterface
    private interface Attention {
        Tensor forward(Tape tape, Tensor qkv);
    }

    /** One pre-LayerNorm transformer block on x (N, C); dropout sites {@code site} and {@code site + 1}. */
    private Tensor block(Tape tape, Block blk, Tensor x, Attention attention, int site, long[] rowKeys) {
        Tensor qkv = blk.attn.forward(tape, blk.ln1.forward(tape, x));
        Tensor att = attention.forward(tape, qkv);
        Tensor a = DropoutOp.forward(tape, blk.attnProj.forward(tape, att), config.dropout(), seed, site, rowKeys);
        x = AddOp.forward(tape, x, a);
        Tensor f = GeluOp.forward(tape, blk.fc.forward(tape, blk.ln2.forward(tape, x)));
        Tensor m = DropoutOp.forward(tape, blk.mlpProj.forward(tape, f), config.dropout(), seed, site + 1, rowKeys);
        return AddOp.forward(tape, x, m);
    }

    /**
     * Recompute each block's forward during backward instead of keeping its activations (bit-identical
     * results; roughly one extra forward pass of compute for a fraction of the activation memory).
     */
    public Gpt checkpointActivations(boolean on) {
        this.checkpointActivations = on;
        return this;
    }

    @Override
    public Loss loss(Tape tape, TokenBatch batch) {
        return SoftmaxCrossEntropyOp.forward(tape, logits(tape, batch), batch.targets(), TokenBatch.IGNORE);
    }

    @Override
    public boolean mixesExamples() {
        return false;
    }

    /** B sequences of the full context T. */
    @Override
    public TokenBatch planningBatch(int microBatch) {
        return planningBatch(microBatch, config.context());
    }

    /** B sequences of {@code seq} tokens (T ≤ the context), token 0 everywhere, every position a target. */
    public TokenBatch planningBatch(int microBatch, int seq) {
        long[] ids = new long[microBatch];
        for (int i = 0; i < microBatch; i++) {
            ids[i] = i;
        }
        return new TokenBatch(new int[microBatch * seq], new int[microBatch * seq], ids, microBatch, seq);
    }

    /** Position ids 0..T−1 repeated B times, cached for the last (B, T). */
    private int[] positions(int b, int t) {
        Positions p = positions;
        if (p.ids.length != b * t || p.seq != t) {
            int[] ids = new int[b * t];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i % t;
            }
            p = new Positions(t, ids);
            positions = p;
        }
        return p.ids;
    }

    private record Positions(int seq, int[] ids) {
    }

    /**
     * Dropout key of each row: example index · T + position, the same in any micro-batch (law 5); the tape adds the
     * epoch ({@link io.accrue.autograd.Tape#epoch()}), so the mask is a function of (seed, epoch, example, layer,
     * position).
     */
    private static long[] rowKeys(TokenBatch batch) {
        int t = batch.seq();
        long[] keys = new long[batch.batch() * t];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = batch.exampleIds()[i / t] * t + i % t;
        }
        return keys;
    }
}
