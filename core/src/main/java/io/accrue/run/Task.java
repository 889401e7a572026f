package io.accrue.run;

import io.accrue.data.Dataset;
import io.accrue.models.Model;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.OptimizerKind;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.util.Map;
import java.util.function.Consumer;

/**
 * What a run learns, so that the training loop, progress, metrics, report, memory summary and checkpoints are
 * shared by every task: a GPT on generated additions or a text file ({@link GptTask}), a CNN on Fashion-MNIST
 * ({@link VisionTask}). {@link RunSpec#task()} builds one.
 *
 * <p>Call order: {@link #model} once (after the spec is validated), then {@link #evaluate} between steps.
 *
 * @param <I> the micro-batch type
 */
public interface Task<I> {

    /** The task's name, the prefix of the default run directory: {@code addition}, {@code text}, {@code fashion-mnist}. */
    String name();

    /** One line for the console and the report. */
    String description();

    /** The training examples. */
    Dataset<I> train();

    /** A new model initialised from {@code seed}. */
    Model<I> model(long seed);

    /**
     * The memory plan for {@code config}'s B and K, or with a {@code budgetBytes} &gt; 0 for the largest B dividing its
     * effective batch that fits: a dry run of the model's own forward and backward on {@link #shapes}, before the
     * model is built.
     *
     * @throws IllegalArgumentException when not even micro-batch 1 fits the budget
     */
    default MemoryPlan plan(TrainConfig config, long budgetBytes) {
        double momentum = config.optimizer() == OptimizerKind.SGD ? config.momentum() : 0;
        if (budgetBytes > 0) {
            return MemoryPlanner.fit(shapes(), budgetBytes, config.effectiveBatch(), config.optimizer(), momentum,
                    config.threads(), config.concurrentMicroBatches());
        }
        return MemoryPlanner.plan(shapes(), config.microBatch(), config.accumulationSteps(), config.optimizer(),
                momentum, config.threads(), config.concurrentMicroBatches());
    }

    /** The model's layout without its weights, for the planner's dry run ({@link MemoryPlanner}). */
    Model<I> shapes();

    /** An estimate of the heap the training data occupies, for the heap a plan needs. */
    default long dataBytes() {
        return 0;
    }

    /**
     * The activations {@link #evaluate} allocates beyond the training plan's (its batches are not micro-batches: a
     * forward pass over more examples at once), for the heap a run needs; planned by a dry run, 0 without an
     * evaluation.
     */
    default long evaluationBytes() {
        return 0;
    }

    /** The model in one console line, with its parameter count. */
    String modelLine(Model<I> model);

    /** Strings that name the data and the model exactly: saved in checkpoints and compared on resume. */
    Map<String, String> identity();

    /** Further strings saved in checkpoints (e.g. the model's shape for {@code accrue sample}), not compared. */
    Map<String, String> metadata();

    /** Throughput units per example: T tokens for a sequence, 1 for an image. */
    int unitsPerExample();

    /** The throughput unit: {@code tok} or {@code img}. */
    String unit();

    /** Whether {@link #evaluate} runs after every epoch as well as at the end. */
    default boolean evaluatesEachEpoch() {
        return false;
    }

    /** The key of {@link #evaluate}'s value ({@link Evaluation#metric}); null if this task has no evaluation. */
    default String metric() {
        return null;
    }

    /**
     * Scores the model between steps, printing what it finds as lines to {@code console}; {@code when} says where
     * in the run it is ({@code after epoch 1 (step 938)}). Null if this task has no evaluation.
     */
    default Evaluation evaluate(Trainer<I> trainer, String when, Consumer<String> console) {
        return null;
    }

    /**
     * One evaluation's outcome.
     *
     * @param metric     the key of {@code value} in {@code metrics.jsonl} and {@code results.json}
     * @param value      the score: a fraction in [0, 1] (accuracy), or a loss in nats
     * @param results    further keys for {@code results.json}
     * @param seconds    wall time of the evaluation
     * @param keepLowest whether the run keeps the checkpoint with the lowest value ({@code checkpoint-best/}): a
     *                   validation loss
     */
    public record Evaluation(String metric, double value, Map<String, Object> results, double seconds,
                             boolean keepLowest) {
        /** An evaluation whose best checkpoint is not kept (an accuracy). */
        public Evaluation(String metric, double value, Map<String, Object> results, double seconds) {
            this(metric, value, results, seconds, false);
        }
    }
}
