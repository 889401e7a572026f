package io.accrue.train;

import io.accrue.autograd.AttentionOp;

import io.accrue.models.GptConfig;
import io.accrue.tensor.gemm.Gemm;

import java.util.HashMap;
import java.util.Map;

/**
 * Predicts peak memory before anything is allocated, and picks the largest micro-batch that fits a budget.
 *
 * <p>Everything but the runtime overhead is computed, not sampled: the flat buffers have closed sizes (law 1)
 * and the arena's high-water mark is the sum of what one micro-batch's forward and backward allocate, since
 * nothing is freed before the reset (law 4): every op output, the ops' saved statistics and scratch, and the
 * activation gradients' buffers, which the tape recycles. {@link #gptArenaFloats} mirrors the allocations of
 * {@link io.accrue.models.Gpt}'s ops; a test checks it against the arena's measured high-water mark exactly.
 */
public final class MemoryPlanner {
    /**
     * JVM memory outside the heap and the young generation (code, metaspace, stacks, GC), measured on JDK 25. 116 MiB
     * since the launcher aligns objects to 64 bytes: with 108, gpt2 at micro-batch 1 measured 3,971 MB against a
     * prediction of 3,965 (bench/memory.sh, 2026-12-04).
     */
    static final long NON_HEAP_BYTES = 116L << 20;
    /** The young generation the launcher sets (-Xmn32m, scripts/jdk.sh): per-micro-batch garbage stays in it. */
    public static final long YOUNG_BYTES = 32L << 20;

    private MemoryPlanner() {
    }

    /**
     * Floats the activation arena holds at its high-water mark for one micro-batch of B sequences of T tokens
     * (N = B·T rows).
     *
     * <p>Without checkpointing every op output is kept, plus saved statistics and scratch, plus the activation
     * gradients' buffers: the tape recycles a gradient once its producer's backward has run
     * ({@link io.accrue.autograd.Tape}), so only as many buffers of each size exist as are ever alive at once,
     * which {@link GradientBuffers} counts by replaying the backward. With {@code checkpointing}
     * ({@link io.accrue.models.Gpt#checkpointActivations}) only each block's output is kept; the peak comes while
     * the first block is recomputed and differentiated, inside a region whose gradients are not recycled (the
     * whole region is released), on top of the kept tensors and the head's gradient buffers.
     */
    public static long gptArenaFloats(GptConfig cfg, int b, int t, int threads, boolean checkpointing) {
        long n = (long) b * t;
        long c = cfg.width();
        long layers = cfg.layers();
        int heads = cfg.heads();
        long hs = c / heads;
        long parts = Math.min((long) b * heads, threads);
        boolean dropout = cfg.dropout() > 0;
        long embeddings = 3 * n * c + (dropout ? n * c : 0);       // wte, wpe, their sum (+ dropout)
        long block = 18 * n * c + (dropout ? 2 * n * c : 0);      // ln, qkv, att, proj, add, ln, fc, gelu, proj, add
        long head = n * c + n * cfg.vocab();                       // ln_f, logits
        long blockForwardScratch = 2 * n + (long) b * heads * t * t                           // ln_1, probs,
                + parts * AttentionOp.forwardScratchFloats(t, (int) hs) + 2 * n;              // Kᵀ and V, ln_2
        long blockBackwardScratch = parts * AttentionOp.backwardScratchFloats(t, (int) hs);  // Vᵀ, dS, K, Q, dY
        long headScratch = 2 * n + 3 * n;                                                     // ln_f; loss rows, (max, Σexp)
        GradientBuffers grads = new GradientBuffers();
        grads.head(n * c, n * cfg.vocab());
        if (!checkpointing) {
            for (long l = 0; l < layers; l++) {
                grads.block(n * c, dropout);
            }
            grads.embeddings(n * c, dropout);
            return embeddings + layers * (block + blockForwardScratch + blockBackwardScratch) + head + headScratch
                    + grads.floats();
        }
        grads.take(n * c);  // the first recomputed block's input gradient, allocated before its region
        long kept = embeddings + layers * n * c + head + headScratch;
        long region = 2 * block + blockForwardScratch + blockBackwardScratch;
        return kept + grads.floats() + region;
    }

    /**
     * The tape's gradient recycling replayed over a Gpt's backward, op by op: each op takes its inputs' gradients
     * (new ones) and then recycles its output's. Buffers are reused only at the same size, so the arena holds,
     * per size, the most gradients of that size alive at once.
     */
    static final class GradientBuffers {
        private final Map<Long, long[]> liveAndMost = new HashMap<>();

        void take(long size) {
            long[] lm = liveAndMost.computeIfAbsent(size, s -> new long[2]);
            lm[0]++;
            lm[1] = Math.max(lm[1], lm[0]);
        }

        void recycle(long size) {
            liveAndMost.get(size)[0]--;
        }

        /** Loss (dlogits), the tied head (d ln_f out) and ln_f (d of the last block's output). */
        void head(long nc, long nv) {
            take(nv);
            take(nc);
            recycle(nv);
            take(nc);
            recycle(nc);
        }

        /** One block, top down; d of its input is taken by the first residual add and kept for the next block. */
        void block(long nc, boolean dropout) {
            residualAdd(nc, dropout);                   // x + mlp: d x, d mlp
            step(nc, 4 * nc);                           // mlp proj: d gelu out
            step(4 * nc, 4 * nc);                       // gelu: d fc out
            step(4 * nc, nc);                           // fc: d ln_2 out
            recycle(nc);                                // ln_2 adds into d x
            residualAdd(nc, dropout);                   // x + attn: d x, d attn
            step(nc, nc);                               // attn proj: d attention out
            step(nc, 3 * nc);                           // attention: d qkv
            step(3 * nc, nc);                           // qkv: d ln_1 out
            recycle(nc);                                // ln_1 adds into d x
        }

        /** Dropout of the sum (if any), the sum of the two embeddings, the embeddings (no input gradient). */
        void embeddings(long nc, boolean dropout) {
            if (dropout) {
                step(nc, nc);
            }
            take(nc);
            take(nc);
            recycle(nc);
            recycle(nc);
            recycle(nc);
        }

        /** The residual add (two new input gradients, its output's recycled), then the branch's dropout. */
        private void residualAdd(long nc, boolean dropout) {
            take(nc);
            take(nc);
            recycle(nc);
            if (dropout) {
                step(nc, nc);
            }
        }

        /** An op with one differentiated input: takes its gradient, recycles its output's. */
        private void step(long output, long input) {
            take(input);
            recycle(output);
        }

        long floats() {
            long f = 0;
            for (Map.Entry<Long, long[]> e : liveAndMost.entrySet()) {
                f += e.getKey() * e.getValue()[1];
            }
            return f;
        }
    }

    /** Floats of the optimizer's state for {@code params} parameters. */
    static long optimizerFloats(OptimizerKind kind, double momentum, long params) {
        return switch (kind) {
            case ADAMW -> 2 * params;
            case SGD -> momentum > 0 ? params : 0;
        };
    }

    /**
     * Floats of the packed weights held for a window ({@link io.accrue.tensor.gemm.Gemm#multiplyByWeight}) when K > 1:
     * for every {@code Linear} and the tied head, W for the backward's dY·W and Wᵀ for the forward's X·Wᵀ, each
     * where {@link io.accrue.tensor.gemm.Gemm#heldWeightFloats(int, int, int, boolean)} holds it at B·T rows.
     */
    static long gptHeldWeightFloats(GptConfig cfg, int b, int k, int t) {
        if (k == 1) {
            return 0;
        }
        int rows = b * t;
        int c = cfg.width();
        long block = linearHeldFloats(rows, 3 * c, c) + linearHeldFloats(rows, c, c)
                + linearHeldFloats(rows, 4 * c, c) + linearHeldFloats(rows, c, 4 * c);
        return cfg.layers() * block + linearHeldFloats(rows, cfg.vocab(), c);
    }

    /** A linear layer's W (out, in) held at {@code rows} rows: for dX (k = out, n = in) and the forward (k = in). */
    private static long linearHeldFloats(int rows, int out, int in) {
        return Gemm.heldWeightFloats(rows, out, in, false) + Gemm.heldWeightFloats(rows, in, out, true);
    }

    /**
     * The predicted peak of training {@code cfg} at micro-batch b and accumulation k: k changes it only through
     * the weights held for small micro-batches ({@link #gptHeldWeightFloats}, counted with the weights).
     */
    public static MemoryPlan plan(GptConfig cfg, int b, int k, int t, OptimizerKind opt, double momentum, int threads,
                                  boolean checkpointing) {
        return plan(cfg, b, k, t, opt, momentum, threads, checkpointing, 1);
    }

    /**
     * {@link #plan} for {@code concurrent} micro-batches run at once ({@link TrainConfig#concurrentMicroBatches}):
     * each has an arena of its own, sized for the one thread it runs on.
     */
    public static MemoryPlan plan(GptConfig cfg, int b, int k, int t, OptimizerKind opt, double momentum, int threads,
                                  boolean checkpointing, int concurrent) {
        long params = cfg.parameterCount();
        long tied = (long) cfg.vocab() * cfg.width();
        long arena = concurrent > 1 ? concurrent * gptArenaFloats(cfg, b, t, 1, checkpointing)
                : gptArenaFloats(cfg, b, t, threads, checkpointing);
        return new MemoryPlan(b, k, 4 * (params + gptHeldWeightFloats(cfg, b, k, t)), 4 * (params + tied),
                4 * optimizerFloats(opt, momentum, params), 4 * arena, YOUNG_BYTES + NON_HEAP_BYTES, concurrent);
    }

    /**
     * The plan with the largest micro-batch B dividing {@code effectiveBatch} whose peak fits {@code budgetBytes},
     * and K = effectiveBatch / B.
     *
     * @throws IllegalArgumentException when not even B = 1 fits, with the breakdown and what would help
     */
    public static MemoryPlan fit(GptConfig cfg, long budgetBytes, int effectiveBatch, int t, OptimizerKind opt,
                                 double momentum, int threads, boolean checkpointing) {
        return fit(cfg, budgetBytes, effectiveBatch, t, opt, momentum, threads, checkpointing, 1);
    }

    /** {@link #fit} for {@code concurrent} micro-batches run at once, each with an arena of its own. */
    public static MemoryPlan fit(GptConfig cfg, long budgetBytes, int effectiveBatch, int t, OptimizerKind opt,
                                 double momentum, int threads, boolean checkpointing, int concurrent) {
        if (effectiveBatch <= 0) {
            throw new IllegalArgumentException("effectiveBatch must be positive, got " + effectiveBatch);
        }
        for (int b = effectiveBatch; b >= 1; b--) {
            if (effectiveBatch % b == 0) {
                MemoryPlan p = plan(cfg, b, effectiveBatch / b, t, opt, momentum, threads, checkpointing, concurrent);
                if (p.totalBytes() <= budgetBytes) {
                    return p;
                }
            }
        }
        MemoryPlan one = plan(cfg, 1, effectiveBatch, t, opt, momentum, threads, checkpointing, concurrent);
        throw new IllegalArgumentException("a memory budget of " + MemoryPlan.mb(budgetBytes).strip()
                + " cannot hold even micro-batch 1, which needs " + MemoryPlan.mb(one.totalBytes()).strip()
                + " (weights " + MemoryPlan.mb(one.weightsBytes()).strip() + ", gradients "
                + MemoryPlan.mb(one.gradsBytes()).strip() + ", optimizer " + MemoryPlan.mb(one.optimizerBytes()).strip()
                + ", activations " + MemoryPlan.mb(one.activationBytes()).strip() + ", runtime "
                + MemoryPlan.mb(one.runtimeBytes()).strip() + "); use a smaller model, fewer layers, a shorter "
                + "sequence, SGD instead of AdamW" + (checkpointing ? "" : ", or activation checkpointing"));
    }
}
