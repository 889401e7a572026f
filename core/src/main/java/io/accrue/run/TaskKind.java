package io.accrue.run;

import io.accrue.train.TrainConfig;

import java.util.Locale;

/**
 * The tasks a run can learn, each with the defaults it changes from {@link TrainConfig.Builder}'s (the one place
 * defaults live) and its own: a GPT on generated additions, a GPT on a text file, a CNN on Fashion-MNIST.
 */
public enum TaskKind {
    /** A small GPT learns D-digit addition, scored by held-out exact match: 3,000 steps, model {@code adder}. */
    ADDITION("addition", ModelShapes.ADDER, 100_000, 1000),
    /**
     * A GPT on text: a file's bytes (no evaluation), or token shards with a validation loss every
     * {@link #EVAL_EVERY} steps; 3,000 steps, model {@code tiny}.
     */
    TEXT("text", "tiny", 0, 0),
    /** The CNN of {@code CnnConfig.fashionMnist}: one epoch, B = 16, lr 2e-3, test accuracy after every epoch. */
    FASHION_MNIST("fashion-mnist", "cnn", 0, RunSpec.ALL);

    /** Optimizer steps of the GPT tasks: with lr 1e-3 the addition task reached 100% for seeds 1337, 2, 3 and 4. */
    public static final long GPT_STEPS = 3000;

    /**
     * Optimizer steps between validation losses of a text run with a validation split (and one after the last
     * step): 12 of the default 3,000 steps, like nanoGPT's small runs (its Shakespeare config: every 250).
     */
    public static final long EVAL_EVERY = 250;

    /**
     * Tokens of {@code val.bin} a validation scores: 32 sequences of 1,024 (256 of 128 for {@code tiny}). Its forward
     * passes cost about what 1/3 of that many training tokens do, under 2% of 250 default steps (64 × 128 tokens
     * each); the mean of 32,768 token losses moves by ~0.01 nats from sampling alone.
     */
    public static final long EVAL_TOKENS = 32_768;

    private final String id;
    private final String defaultModel;
    private final int defaultTrainSize;
    private final int defaultEvalSize;

    TaskKind(String id, String defaultModel, int defaultTrainSize, int defaultEvalSize) {
        this.id = id;
        this.defaultModel = defaultModel;
        this.defaultTrainSize = defaultTrainSize;
        this.defaultEvalSize = defaultEvalSize;
    }

    /** The name on the command line and in JSON: {@code addition}, {@code text}, {@code fashion-mnist}. */
    public String id() {
        return id;
    }

    /** The model without {@code --model}. */
    public String defaultModel() {
        return defaultModel;
    }

    /** Training examples without {@code --train-size}: generated problems, or 0 for all of the data. */
    public int defaultTrainSize() {
        return defaultTrainSize;
    }

    /** Held-out examples evaluated without {@code --eval-size} ({@link RunSpec#ALL}: the whole test set). */
    public int defaultEvalSize() {
        return defaultEvalSize;
    }

    /** Whether the model is a GPT (the tasks on tokens). */
    public boolean gpt() {
        return this != FASHION_MNIST;
    }

    /**
     * A builder with this task's training defaults for {@code model}: the GPT tasks run 3,000 steps (the
     * {@code adder} model on one thread: its matrices are too small to split), Fashion-MNIST one epoch at B = 16
     * with lr 2e-3.
     */
    public TrainConfig.Builder defaults(String model) {
        TrainConfig.Builder b = TrainConfig.builder();
        if (gpt()) {
            b.maxSteps(GPT_STEPS);
            if (ModelShapes.ADDER.equalsIgnoreCase(model)) {
                b.threads(1);
            }
        } else {
            b.microBatch(16).lr(2e-3).epochs(1);
        }
        return b;
    }

    /**
     * The task named {@code id}.
     *
     * @throws IllegalArgumentException naming the unknown value and the choices
     */
    public static TaskKind of(String id) {
        for (TaskKind k : values()) {
            if (k.id.equals(id.toLowerCase(Locale.ROOT))) {
                return k;
            }
        }
        throw new IllegalArgumentException("--task: unknown value '" + id + "'; use addition, text or fashion-mnist");
    }
}
