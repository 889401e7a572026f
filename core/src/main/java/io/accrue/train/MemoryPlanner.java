package io.accrue.train;

import io.accrue.models.GptConfig;

/**
 * Predicts peak memory before anything is allocated, and picks the largest micro-batch that fits a budget.
 *
 * <p>Everything but the runtime overhead is computed, not sampled: the flat buffers have closed sizes (law 1)
 * and the arena's high-water mark is the sum of what one micro-batch's forward and backward allocate, since
 * nothing is freed before the reset (law 4): every op output once for its value and once for its gradient,
 * plus the ops' saved statistics and scratch. {@link #gptArenaFloats} mirrors the allocations of
 * {@link io.accrue.models.Gpt}'s ops; a test checks it against the arena's measured high-water mark exactly.
 */
public final class MemoryPlanner {
    /** JVM memory outside the heap and the young generation (code, metaspace, stacks, GC), measured on JDK 25. */
    static final long NON_HEAP_BYTES = 108L << 20;
    /** The young generation the launcher sets (-Xmn32m, scripts/jdk.sh): per-micro-batch garbage stays in it. */
    public static final long YOUNG_BYTES = 32L << 20;

    private MemoryPlanner() {
    }

    /**
     * Floats the activation arena holds at its high-water mark for one micro-batch of B sequences of T tokens
     * (N = B·T rows).
     *
     * <p>Without checkpointing every op output is kept, with a gradient of its size, plus saved statistics and
     * scratch. With {@code checkpointing} ({@link io.accrue.models.Gpt#checkpointActivations}) only each block's
     * output is kept; the peak comes while the first block is recomputed and differentiated, on top of the
     * kept tensors and the gradients of every block boundary.
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
        long blockForwardScratch = 2 * n + (long) b * heads * t * t + parts * hs * t + 2 * n; // ln_1, probs, Kᵀ, ln_2
        long blockBackwardScratch = parts * (hs * t + (long) t * t);                          // Vᵀ, dS
        long headScratch = 2 * n + 3 * n;                                                     // ln_f; loss rows, (max, Σexp)
        if (!checkpointing) {
            return 2 * (embeddings + layers * block + head)
                    + layers * (blockForwardScratch + blockBackwardScratch) + headScratch;
        }
        long kept = embeddings + layers * n * c + head + headScratch;
        long boundaryGrads = n * cfg.vocab() + n * c + (layers + 1) * n * c;  // logits, ln_f out, block inputs/outputs
        long region = 2 * block + blockForwardScratch + blockBackwardScratch;
        return kept + boundaryGrads + region;
    }

    /** Floats of the optimizer's state for {@code params} parameters. */
    static long optimizerFloats(OptimizerKind kind, double momentum, long params) {
        return switch (kind) {
            case ADAMW -> 2 * params;
            case SGD -> momentum > 0 ? params : 0;
        };
    }

    /** The predicted peak of training {@code cfg} at micro-batch b and accumulation k (k does not change it). */
    public static MemoryPlan plan(GptConfig cfg, int b, int k, int t, OptimizerKind opt, double momentum, int threads,
                                  boolean checkpointing) {
        long params = cfg.parameterCount();
        long tied = (long) cfg.vocab() * cfg.width();
        return new MemoryPlan(b, k, 4 * params, 4 * (params + tied), 4 * optimizerFloats(opt, momentum, params),
                4 * gptArenaFloats(cfg, b, t, threads, checkpointing), YOUNG_BYTES + NON_HEAP_BYTES);
    }

    /**
     * The plan with the largest micro-batch B dividing {@code effectiveBatch} whose peak fits {@code budgetBytes},
     * and K = effectiveBatch / B.
     *
     * @throws IllegalArgumentException when not even B = 1 fits, with the breakdown and what would help
     */
    public static MemoryPlan fit(GptConfig cfg, long budgetBytes, int effectiveBatch, int t, OptimizerKind opt,
                                 double momentum, int threads, boolean checkpointing) {
        if (effectiveBatch <= 0) {
            throw new IllegalArgumentException("effectiveBatch must be positive, got " + effectiveBatch);
        }
        for (int b = effectiveBatch; b >= 1; b--) {
            if (effectiveBatch % b == 0) {
                MemoryPlan p = plan(cfg, b, effectiveBatch / b, t, opt, momentum, threads, checkpointing);
                if (p.totalBytes() <= budgetBytes) {
                    return p;
                }
            }
        }
        MemoryPlan one = plan(cfg, 1, effectiveBatch, t, opt, momentum, threads, checkpointing);
        throw new IllegalArgumentException("a memory budget of " + MemoryPlan.mb(budgetBytes).strip()
                + " cannot hold even micro-batch 1, which needs " + MemoryPlan.mb(one.totalBytes()).strip()
                + " (weights " + MemoryPlan.mb(one.weightsBytes()).strip() + ", gradients "
                + MemoryPlan.mb(one.gradsBytes()).strip() + ", optimizer " + MemoryPlan.mb(one.optimizerBytes()).strip()
                + ", activations " + MemoryPlan.mb(one.activationBytes()).strip() + ", runtime "
                + MemoryPlan.mb(one.runtimeBytes()).strip() + "); use a smaller model, fewer layers, a shorter "
                + "sequence, SGD instead of AdamW" + (checkpointing ? "" : ", or activation checkpointing"));
    }
}
