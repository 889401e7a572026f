package io.accrue.cli;

import io.accrue.train.Json;
import io.accrue.train.MemoryUsage;
import io.accrue.train.StepMetrics;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Hand-written JSON of the run's records: one object per step in {@code metrics.jsonl}, and results. */
final class Metrics {
    private Metrics() {
    }

    /** One line of {@code metrics.jsonl}: the step's record, throughput in tokens, and memory in bytes. */
    static String json(StepMetrics m, double tokensPerSecond, double elapsed, MemoryUsage mem, long heapUsedBytes) {
        return json(m, "tokens_per_s", tokensPerSecond, elapsed, mem, heapUsedBytes, null, Double.NaN);
    }

    /**
     * One line of {@code metrics.jsonl}: the step's record, throughput under {@code rateKey} ({@code tokens_per_s},
     * {@code images_per_s}), memory in bytes, and the evaluation {@code metric} (e.g. {@code test_accuracy}) when
     * one ran after this step (null: none).
     */
    static String json(StepMetrics m, String rateKey, double rate, double elapsed, MemoryUsage mem,
                       long heapUsedBytes, String metric, double value) {
        String line = String.format(Locale.ROOT, "{\"step\":%d,\"epoch\":%d,\"k\":%d,\"examples\":%d,\"count\":%d,"
                        + "\"loss\":%s,\"lr\":%s,\"grad_norm\":%s,\"skipped\":%b,\"seconds\":%s,"
                        + "\"" + rateKey + "\":%s,\"elapsed_s\":%s,\"arena_floats\":%d,\"weights_bytes\":%d,"
                        + "\"grads_bytes\":%d,\"optimizer_bytes\":%d,\"optimizer_state_bytes\":%s,"
                        + "\"arena_high_water_bytes\":%d,\"memory_total_bytes\":%d,\"heap_used_bytes\":%d}",
                m.step() + 1, m.epoch(), m.accumulation(), m.examples(), m.count(), num(m.loss()), num(m.lr()),
                num(m.gradNorm()), m.skipped(), num(m.seconds()), num(rate), num(elapsed),
                m.arenaFloats(), mem.weightsBytes(), mem.gradsBytes(), mem.optimizerBytes(),
                mem.optimizerStateBytes().toString().replace(" ", ""), mem.arenaHighWaterBytes(), mem.totalBytes(),
                heapUsedBytes);
        return metric == null ? line
                : line.substring(0, line.length() - 1) + ",\"" + metric + "\":" + num(value) + "}";
    }

    /**
     * Keeps the lines of {@code metrics.jsonl} up to optimizer step {@code step} (1-based, inclusive) before a
     * resume appends to it: a killed run may have logged steps after its last checkpoint, and its last line may
     * be cut off.
     */
    static void truncate(Path file, long step) throws IOException {
        if (!Files.isRegularFile(file)) {
            return;
        }
        List<String> keep = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            try {
                if (Json.parse(line) instanceof Map<?, ?> m && m.get("step") instanceof Long s && s <= step) {
                    keep.add(line);
                }
            } catch (IllegalArgumentException e) {
                // a line cut off by a kill: dropped
            }
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, keep, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** A flat object of numbers, strings and booleans. */
    static String object(Map<String, Object> map) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, Object> e : map.entrySet()) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(Json.quote(e.getKey())).append(": ");
            Object v = e.getValue();
            if (v instanceof Double d) {
                sb.append(num(d));
            } else if (v instanceof Number || v instanceof Boolean) {
                sb.append(v);
            } else {
                sb.append(Json.quote(String.valueOf(v)));
            }
        }
        return sb.append('}').toString();
    }

    /** A JSON number, or null for NaN and infinities (which JSON cannot hold). */
    static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }
}
