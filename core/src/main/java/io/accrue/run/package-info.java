/**
 * The run layer: a whole training run as one value and one loop for every front end.
 *
 * <p>{@link io.accrue.run.RunSpec} describes the run (task, model, data, tokenizer, the
 * {@link io.accrue.train.TrainConfig}, output directory, checkpoint interval, memory budget), validated once and
 * stored as JSON in every checkpoint. {@link io.accrue.run.Run} executes it: loads the task's data
 * ({@link io.accrue.run.Task}), plans memory by a dry run of the model, builds the {@link io.accrue.train.Trainer},
 * resumes, and owns the run directory — {@code metrics.jsonl}, {@code results.json}, {@code checkpoint/} — while
 * a {@link io.accrue.run.RunListener} shows progress. The command line and the Spark launcher are thin: options
 * (or a spec file) map onto a {@code RunSpec}; Spark adds a {@link io.accrue.train.GradientSync}.
 *
 * <p>Text: {@link io.accrue.run.Prepare} turns text files into token shards ({@code train.bin}, {@code val.bin},
 * {@code meta.json}: {@link io.accrue.run.PreparedData}), which a text run memory-maps; a run that validates scores
 * the per-token loss on a fixed subset of {@code val.bin} ({@link io.accrue.run.Validation}) and keeps the best
 * checkpoint in {@code checkpoint-best/}.
 */
package io.accrue.run;
