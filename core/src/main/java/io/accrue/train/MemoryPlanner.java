package io.accrue.train;

import io.accrue.autograd.DryRun;
import io.accrue.autograd.Tape;
import io.accrue.models.Decoding;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Model;
import io.accrue.tensor.Compute;
import io.accrue.tensor.ParameterStore;

import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Predicts peak memory before training starts, and picks the largest micro-batch that fits a budget.
 *
 * <p>The flat buffers have closed sizes (law 1), read off the model's parameter store: the weights, the gradients
 * (tied-use slots included) and the optimizer's state. The activation arena's high-water mark (law 4) is not a
 * formula: it comes from a <em>dry run</em> of one micro-batch — the model's own {@link Model#loss} and the tape's
 * backward on a planning tape ({@link DryRun}), whose counting arena keeps a real arena's books without storage and
 * whose ops allocate as in training and skip their arithmetic. Every op output, saved statistic and scratch buffer,
 * the activation gradients the tape recycles, and the regions activation checkpointing recomputes and releases are
 * counted by the code that will allocate them, so the prediction is the arena's measured high-water mark exactly,
 * for any model. The same dry run learns which weights Gemm would hold packed for a window of K &gt; 1
 * micro-batches: the products by a weight report themselves ({@link DryRun#heldWeightFloats()}).
 *
 * <p>A dry run allocates next to nothing and takes milliseconds; built with {@code shapesOnly} (e.g.
 * {@link Gpt#shapesOnly}), the model it runs on has its parameters' shapes and offsets but no buffers, so even
 * gpt2-medium is planned without its 1.4 GB of weights. Only the JVM's own overhead is a measurement
 * ({@link #NON_HEAP_BYTES}, {@link #YOUNG_BYTES}).
 */
public final class MemoryPlanner {
    /**
     * JVM memory outside the heap and the young generation (code, metaspace, stacks, GC), measured on JDK 25 with
     * the launcher's 64-byte object alignment (bench/memory.sh; the measurements are in bench/PERF-NOTES.md).
     */
    static final long NON_HEAP_BYTES = 116L << 20;
    /** The young generation the launcher sets (-Xmn32m, scripts/jdk.sh): per-micro-batch garbage stays in it. */
    public static final long YOUNG_BYTES = 32L << 20;

    private MemoryPlanner() {
    }

    /**
     * The activation arena's high-water mark, in floats, of {@code model}'s forward and backward on {@code batch}
     * with {@code threads} threads (per-thread scratch depends on them): what a trainer's arena measures after
     * the micro-batch, when its first chunk holds at least that much.
     */
    public static <I> long arenaFloats(Model<I> model, I batch, int threads) {
        return dryRun(model, batch, threads).arena().highWaterFloats();
    }

    /** One micro-batch's forward and backward on a planning tape, in training mode. */
    private static <I> DryRun dryRun(Model<I> model, I batch, int threads) {
        DryRun run = new DryRun();
        try (Compute compute = new Compute(threads)) {
            Tape tape = new Tape(compute, run);
            model.loss(tape, batch);
            tape.backward();
            tape.reset();
        }
        return run;
    }

    /**
     * The predicted peak of running {@code model} forward only, in eval mode, on {@code batch} (e.g. decoding): the
     * weights and the gradient buffer a model allocates, no optimizer state, the arena of one forward pass (a dry run,
     * {@link #arenaFloats} without the backward).
     */
    public static <I> MemoryPlan planInference(Model<I> model, I batch, int b, int threads) {
        return forwardOnly(model.parameters(), b, threads, tape -> model.loss(tape, batch));
    }

    /**
     * The predicted peak of generating up to {@code newTokens} tokens after each of B prompts of
     * {@code promptLengths} tokens ({@link Decoding#generate}): the weights and gradient buffer, and the arena of
     * the key/value cache and the prompts' pass, from a dry run of {@link Decoding#plan}.
     */
    public static MemoryPlan planDecoding(Gpt model, int[] promptLengths, int newTokens, int threads) {
        return forwardOnly(model.parameters(), promptLengths.length, threads,
                tape -> Decoding.plan(model, tape, promptLengths, newTokens));
    }

    /** A plan without optimizer state whose arena is the high-water mark of {@code pass} on an eval-mode dry run. */
    private static MemoryPlan forwardOnly(ParameterStore store, int b, int threads, Consumer<Tape> pass) {
        DryRun run = new DryRun();
        try (Compute compute = new Compute(threads)) {
            Tape tape = new Tape(compute, run);
            tape.setTraining(false);
            pass.accept(tape);
            tape.reset();
        }
        return new MemoryPlan(b, 1, 4L * store.size(), 4L * store.gradSize(), 0, 4 * run.arena().highWaterFloats(),
                YOUNG_BYTES + NON_HEAP_BYTES, 1);
    }

    /** Floats of the optimizer's state for {@code params} parameters. */
    static long optimizerFloats(OptimizerKind kind, double momentum, long params) {
        return switch (kind) {
            case ADAMW -> 2 * params;
            case SGD -> momentum > 0 ? params : 0;
        };
    }

    /**
     * The predicted peak of training {@code model} at micro-batch B = {@code b} and accumulation K = {@code k},
     * with {@code concurrent} micro-batches run at once ({@link TrainConfig#concurrentMicroBatches}; 1: one at a
     * time on {@code threads} threads). The arena comes from a dry run on {@code batches.apply(b)}; with
     * {@code concurrent} &gt; 1 each micro-batch has an arena of its own, sized for the one thread it runs on. K
     * changes the peak only through the weights held packed for a window when K &gt; 1, counted with the weights.
     *
     * @param batches a representative micro-batch of B examples for each B, e.g. {@link Model#planningBatch}
     */
    public static <I> MemoryPlan plan(Model<I> model, IntFunction<I> batches, int b, int k, OptimizerKind opt,
                                      double momentum, int threads, int concurrent) {
        if (b <= 0 || k <= 0 || threads <= 0 || concurrent <= 0) {
            throw new IllegalArgumentException("a plan needs positive B, K, threads and concurrent micro-batches, "
                    + "got B=" + b + " K=" + k + " threads=" + threads + " concurrent=" + concurrent);
        }
        I batch = batches.apply(b);
        DryRun run = dryRun(model, batch, concurrent > 1 ? 1 : threads);
        long arena = concurrent * run.arena().highWaterFloats();
        long held = k > 1 ? run.heldWeightFloats() : 0;
        ParameterStore store = model.parameters();
        long params = store.size();
        return new MemoryPlan(b, k, 4 * (params + held), 4L * store.gradSize(),
                4 * optimizerFloats(opt, momentum, params), 4 * arena, YOUNG_BYTES + NON_HEAP_BYTES, concurrent);
    }

    /** {@link #plan(Model, IntFunction, int, int, OptimizerKind, double, int, int)} on the model's planning batch. */
    public static <I> MemoryPlan plan(Model<I> model, int b, int k, OptimizerKind opt, double momentum, int threads,
                                      int concurrent) {
        return plan(model, model::planningBatch, b, k, opt, momentum, threads, concurrent);
    }

    /**
     * The plan with the largest micro-batch B dividing {@code effectiveBatch} whose peak fits {@code budgetBytes},
     * and K = effectiveBatch / B.
     *
     * @throws IllegalArgumentException when not even B = 1 fits, with the breakdown and what would help
     */
    public static <I> MemoryPlan fit(Model<I> model, IntFunction<I> batches, long budgetBytes, int effectiveBatch,
                                     OptimizerKind opt, double momentum, int threads, int concurrent) {
        return fit(model, batches, budgetBytes, effectiveBatch, opt, momentum, threads, concurrent,
                "a smaller model, or SGD instead of AdamW");
    }

    /** {@link #fit(Model, IntFunction, long, int, OptimizerKind, double, int, int)} on the model's planning batch. */
    public static <I> MemoryPlan fit(Model<I> model, long budgetBytes, int effectiveBatch, OptimizerKind opt,
                                     double momentum, int threads, int concurrent) {
        return fit(model, model::planningBatch, budgetBytes, effectiveBatch, opt, momentum, threads, concurrent);
    }

    private static <I> MemoryPlan fit(Model<I> model, IntFunction<I> batches, long budgetBytes, int effectiveBatch,
                                      OptimizerKind opt, double momentum, int threads, int concurrent, String advice) {
        if (effectiveBatch <= 0) {
            throw new IllegalArgumentException("effectiveBatch must be positive, got " + effectiveBatch);
        }
        for (int b = effectiveBatch; b > 1; b--) {
            if (effectiveBatch % b == 0) {
                MemoryPlan p;
                try {
                    p = plan(model, batches, b, effectiveBatch / b, opt, momentum, threads, concurrent);
                } catch (IllegalArgumentException tooLarge) {
                    continue; // e.g. a tensor beyond one array's 2^31−1 floats: this B cannot run at all
                }
                if (p.totalBytes() <= budgetBytes) {
                    return p;
                }
            }
        }
        MemoryPlan one = plan(model, batches, 1, effectiveBatch, opt, momentum, threads, concurrent);
        if (one.totalBytes() <= budgetBytes) {
            return one;
        }
        throw new IllegalArgumentException("a memory budget of " + MemoryPlan.mb(budgetBytes).strip()
                + " cannot hold even micro-batch 1, which needs " + MemoryPlan.mb(one.totalBytes()).strip()
                + " (weights " + MemoryPlan.mb(one.weightsBytes()).strip() + ", gradients "
                + MemoryPlan.mb(one.gradsBytes()).strip() + ", optimizer " + MemoryPlan.mb(one.optimizerBytes()).strip()
                + ", activations " + MemoryPlan.mb(one.activationBytes()).strip() + ", runtime "
                + MemoryPlan.mb(one.runtimeBytes()).strip() + "); use " + advice);
    }

    /**
     * The plan of a {@link Gpt} of shape {@code cfg} on sequences of T = {@code t} tokens (T ≤ its context), one
     * micro-batch at a time: a dry run on {@link Gpt#shapesOnly} (no weights are allocated).
     */
    public static MemoryPlan plan(GptConfig cfg, int b, int k, int t, OptimizerKind opt, double momentum, int threads,
                                  boolean checkpointing) {
        return plan(cfg, b, k, t, opt, momentum, threads, checkpointing, 1);
    }

    /** {@link #plan(GptConfig, int, int, int, OptimizerKind, double, int, boolean)} for concurrent micro-batches. */
    public static MemoryPlan plan(GptConfig cfg, int b, int k, int t, OptimizerKind opt, double momentum, int threads,
                                  boolean checkpointing, int concurrent) {
        Gpt gpt = Gpt.shapesOnly(cfg).checkpointActivations(checkpointing);
        return plan(gpt, bb -> gpt.planningBatch(bb, t), b, k, opt, momentum, threads, concurrent);
    }

    /** {@link #fit(Model, IntFunction, long, int, OptimizerKind, double, int, int)} for a Gpt of shape {@code cfg}. */
    public static MemoryPlan fit(GptConfig cfg, long budgetBytes, int effectiveBatch, int t, OptimizerKind opt,
                                 double momentum, int threads, boolean checkpointing) {
        return fit(cfg, budgetBytes, effectiveBatch, t, opt, momentum, threads, checkpointing, 1);
    }

    /** {@link #fit(GptConfig, long, int, int, OptimizerKind, double, int, boolean)} for concurrent micro-batches. */
    public static MemoryPlan fit(GptConfig cfg, long budgetBytes, int effectiveBatch, int t, OptimizerKind opt,
                                 double momentum, int threads, boolean checkpointing, int concurrent) {
        Gpt gpt = Gpt.shapesOnly(cfg).checkpointActivations(checkpointing);
        return fit(gpt, b -> gpt.planningBatch(b, t), budgetBytes, effectiveBatch, opt, momentum, threads,
                concurrent, "a smaller model, fewer layers, a shorter sequence, SGD instead of AdamW"
                        + (checkpointing ? "" : ", or activation checkpointing"));
    }
}
