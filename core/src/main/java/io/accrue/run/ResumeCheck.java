package io.accrue.run;

import io.accrue.nn.NormKind;
import io.accrue.train.Checkpoint;
import io.accrue.train.TrainerState;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What may differ between the run a checkpoint describes and the run that resumes it: only what changes no bit of
 * the training. Everything else — model, data, tokenizer, sizes, optimizer and schedule, seed, steps, effective
 * batch — is refused with the field and both values named.
 *
 * <p>Free to change: the output directory, the checkpoint cadence, threads and concurrent micro-batches (the same
 * bits for any), activation checkpointing (recomputation gives the same bits), the memory budget (it only picks B
 * and K), the evaluation's size and the validation's interval and tokens (they score, they do not train) — and B with K when the effective batch N = K·B stays
 * the same: law 3 makes every cut of a window into micro-batches give the same bits. That last one is refused for
 * BatchNorm (its statistics are those of one micro-batch), with an accumulation schedule (K is given per step), and
 * inside a window unless the new B divides the examples of the window already done.
 */
final class ResumeCheck {
    /** Spec fields (JSON keys of {@link RunSpecJson}, nested ones dotted) that change nothing in the training. */
    static final Set<String> FREE = Set.of("out", "checkpoint_every", "checkpoint_minutes", "eval_size",
            "eval_every", "eval_tokens", "activation_checkpointing", "memory_budget_bytes", "train.threads", "train.concurrent_micro_batches");
    /** B and K: free together while N stays (see the class comment). */
    static final Set<String> SPLIT = Set.of("train.micro_batch", "train.accumulation_steps");

    private ResumeCheck() {
    }

    /**
     * Refuses {@code now} as a continuation of {@code saved}, the spec in {@code cp}, when it would train otherwise.
     *
     * @throws IllegalArgumentException naming the first field that differs and both values
     */
    static void check(Checkpoint cp, RunSpec saved, RunSpec now) {
        Map<String, Object> before = flat("", RunSpecJson.toMap(saved));
        Map<String, Object> after = flat("", RunSpecJson.toMap(now));
        Set<String> keys = new LinkedHashSet<>(before.keySet()); // the spec's order: task, model and data first
        keys.addAll(after.keySet());
        for (String key : keys) {
            Object a = before.get(key);
            Object b = after.get(key);
            if (Objects.equals(a, b) || FREE.contains(key) || SPLIT.contains(key)) {
                continue;
            }
            throw new IllegalArgumentException("--resume " + cp.dir() + ": the checkpoint's run has " + key + " = "
                    + a + ", these options give " + b + "; that changes the training, so it cannot change on resume "
                    + "(what may: threads, concurrent micro-batches, output, checkpoint cadence, activation "
                    + "checkpointing, evaluation size, and B with K at the same effective batch)");
        }
        int b0 = saved.train().microBatch();
        int b1 = now.train().microBatch();
        if (b0 == b1) {
            return;
        }
        String change = "--resume " + cp.dir() + ": micro-batch " + b0 + " × K " + saved.train().accumulationSteps()
                + " → " + b1 + " × K " + now.train().accumulationSteps() + " keeps the effective batch, but ";
        if (saved.norm() == NormKind.BATCH) {
            throw new IllegalArgumentException(change + "BatchNorm's statistics are per micro-batch, so B changes the "
                    + "training; resume with micro-batch " + b0);
        }
        if (saved.train().accumulationSchedule() != null) {
            throw new IllegalArgumentException(change + "an accumulation schedule gives K per step; resume with "
                    + "micro-batch " + b0);
        }
        TrainerState s = cp.state();
        if (s.windowOpen() && s.windowExamples() % b1 != 0) {
            throw new IllegalArgumentException(change + "the checkpoint is inside a window after "
                    + s.windowExamples() + " examples, which micro-batches of " + b1 + " do not cut evenly; resume "
                    + "with a micro-batch dividing " + s.windowExamples() + " (e.g. " + b0 + ")");
        }
    }

    /** {@code m}'s values by dotted key, nested objects flattened. */
    private static Map<String, Object> flat(String prefix, Map<?, ?> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String key = prefix + e.getKey();
            if (e.getValue() instanceof Map<?, ?> nested) {
                out.putAll(flat(key + ".", nested));
            } else {
                out.put(key, e.getValue());
            }
        }
        return out;
    }
}
