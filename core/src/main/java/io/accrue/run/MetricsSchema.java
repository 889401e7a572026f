package io.accrue.run;

import io.accrue.train.Json;
import io.accrue.train.StepMetrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one schema of a run's per-step metrics — {@code metrics.jsonl}, the CSV and TensorBoard loggers — for every
 * front end ({@code accrue train}, the Spark launcher, the library's {@link Run}): a row per optimizer step, its
 * fields in {@link #FIELDS}' order, named as Python's trainers name them. Facts that stay the same for the whole run
 * (model, B, K, the training state's parts in bytes, Spark's W) are in {@code results.json} and
 * {@code checkpoint.json}, not on every line.
 *
 * <p>A row holds a field only when it applies to the step: {@code val_loss} after a validation, {@code sync_ms} on
 * Spark. As strict JSON ({@link #json}) a non-finite value (NaN, ±∞) is {@code null}, and the row gets a
 * {@code non_finite} object naming each such field and its value.
 */
public final class MetricsSchema {
    /** The field naming the non-finite values of a JSON line, e.g. {@code {"grad_norm":"NaN"}}. */
    public static final String NON_FINITE = "non_finite";

    /**
     * One field of a row.
     *
     * @param name    its key
     * @param unit    its unit ({@code —} for none)
     * @param meaning what it holds, and when it is present if not always
     */
    public record Field(String name, String unit, String meaning) {
    }

    /** Every field a row may hold, in the order a row holds them; the README's table lists the same. */
    public static final List<Field> FIELDS = List.of(
            new Field("step", "count", "optimizer step, 1-based"),
            new Field("epoch", "epochs", "training data seen, as a fraction of the training set (1.5: one epoch "
                    + "and a half)"),
            new Field("loss", "nats", "the window's mean training loss (sum / count)"),
            new Field("learning_rate", "—", "learning rate of this step"),
            new Field("grad_norm", "—", "global gradient norm before clipping (NaN when the window was skipped)"),
            new Field("skipped", "bool", "a non-finite loss or gradient skipped the window (weights untouched)"),
            new Field("examples", "count", "examples in this window (K·B, fewer in a partial last window)"),
            new Field("count", "count", "tokens (or images) the loss counted: the step's divisor"),
            new Field("step_time_s", "s", "wall time of the window: forward, backward and step boundary"),
            new Field("tokens_per_s", "1/s", "GPT tasks: throughput of the window (tokens = examples × T)"),
            new Field("images_per_s", "1/s", "Fashion-MNIST: throughput of the window"),
            new Field("elapsed_s", "s", "since this process started training"),
            new Field("memory_bytes", "bytes", "training state: weights + gradients + optimizer state + the "
                    + "activation arena's high-water mark (grows only while the arena does)"),
            new Field("heap_used_bytes", "bytes", "JVM heap in use after the step"),
            new Field("val_loss", "nats", "text runs with validation: mean loss per token on the fixed val.bin "
                    + "windows, on the steps after which it ran"),
            new Field("heldout_exact_match", "fraction", "addition: held-out problems solved, after the last step"),
            new Field("test_accuracy", "fraction", "Fashion-MNIST: test images classified right, after each epoch"),
            new Field("sync_ms", "ms", "Spark: wall time of the step's gradient all-reduce among the replicas"),
            new Field("sync_cpu_ms", "ms", "Spark: CPU time the all-reduce took (sending and receiving threads)"),
            new Field("wait_ms", "ms", "Spark: time waiting for the slowest replica's micro-batches"),
            new Field(NON_FINITE, "—", "present only when a value is not finite: {field: \"NaN\" | \"Infinity\" | "
                    + "\"-Infinity\"}; the field itself is null"));

    private MetricsSchema() {
    }

    /**
     * The row of one step: its report, the training data seen in epochs, the throughput field
     * ({@code tokens_per_s} or {@code images_per_s}) and the fields that only some steps have (the evaluation's
     * metric, the synchronization's figures), non-finite values as they are.
     */
    static Map<String, Object> row(StepReport r, double epoch, String rateKey, Map<String, Object> extra) {
        StepMetrics m = r.metrics();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("step", m.step() + 1);
        row.put("epoch", epoch);
        row.put("loss", m.loss());
        row.put("learning_rate", m.lr());
        row.put("grad_norm", m.gradNorm());
        row.put("skipped", m.skipped());
        row.put("examples", m.examples());
        row.put("count", m.count());
        row.put("step_time_s", m.seconds());
        row.put(rateKey, r.rate());
        row.put("elapsed_s", r.elapsed());
        row.put("memory_bytes", r.memory().totalBytes());
        row.put("heap_used_bytes", r.heapUsedBytes());
        row.putAll(extra);
        return row;
    }

    /**
     * The columns a row of this run may hold, in schema order: the throughput field {@code rateKey}, the
     * evaluation's {@code metric} (null: none) and the synchronization's {@code syncFields} among the optional ones;
     * never {@link #NON_FINITE}.
     */
    public static List<String> columns(String rateKey, String metric, Set<String> syncFields) {
        Set<String> optional = Set.of("tokens_per_s", "images_per_s", "val_loss", "heldout_exact_match",
                "test_accuracy", "sync_ms", "sync_cpu_ms", "wait_ms", NON_FINITE);
        List<String> columns = new ArrayList<>();
        for (Field f : FIELDS) {
            String n = f.name();
            if (!optional.contains(n) || n.equals(rateKey) || n.equals(metric) || syncFields.contains(n)) {
                columns.add(n);
            }
        }
        return columns;
    }

    /**
     * {@code row} as one line of strict JSON: each non-finite value null, and named with its value in a trailing
     * {@link #NON_FINITE} object.
     */
    public static String json(Map<String, Object> row) {
        Map<String, Object> nonFinite = new LinkedHashMap<>();
        row.forEach((k, v) -> {
            if (v instanceof Double d && !Double.isFinite(d)) {
                nonFinite.put(k, d.toString());
            }
        });
        if (nonFinite.isEmpty()) {
            return Json.write(row, 0);
        }
        Map<String, Object> flagged = new LinkedHashMap<>(row);
        flagged.put(NON_FINITE, nonFinite);
        return Json.write(flagged, 0);
    }
}
