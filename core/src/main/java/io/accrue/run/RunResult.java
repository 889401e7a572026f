package io.accrue.run;

import io.accrue.train.StepMetrics;
import io.accrue.train.TrainerState;

import java.util.List;
import java.util.Map;

/**
 * What a {@link Run} did, for its front end's summary and report.
 *
 * @param spec     the spec as it ran (B and K from the plan under a budget)
 * @param finished whether every planned step ran (false: stopped early)
 * @param steps    optimizer steps done, resumed ones included
 * @param planned  optimizer steps planned
 * @param results  what {@code results.json} holds, in order
 * @param settings the configuration as the report lists it: label → value
 * @param history  every step of this process, in order
 * @param evals    every evaluation, in order
 * @param unit     the throughput unit: {@code tok} or {@code img}
 * @param state    where training ended, as the last checkpoint holds it: a stopped run may be inside a window
 * @param windowK  micro-batches of the window {@code state} opens next (0 when finished)
 */
public record RunResult(RunSpec spec, boolean finished, long steps, long planned, Map<String, Object> results,
                        Map<String, String> settings, List<StepMetrics> history, List<Eval> evals, String unit,
                        TrainerState state, int windowK) {

    /** Micro-batches of the open window done when the run stopped (0 between steps). */
    public int windowMicroBatchesDone() {
        return state.windowExamples() / spec.train().microBatch();
    }

    /**
     * One evaluation of the run.
     *
     * @param epoch  the epoch it followed (1-based)
     * @param step   the optimizer step it followed (1-based)
     * @param metric its name, e.g. {@code test_accuracy}
     * @param value  its value
     */
    public record Eval(int epoch, long step, String metric, double value) {
    }
}
