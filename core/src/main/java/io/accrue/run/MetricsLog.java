package io.accrue.run;

import io.accrue.train.Json;
import io.accrue.train.MemoryUsage;
import io.accrue.train.StepMetrics;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.jsonl}: one JSON object per optimizer step, the same fields for every front end (the README's
 * table): {@code step} (1-based), {@code epoch}, {@code k}, {@code examples}, {@code count}, {@code loss},
 * {@code lr}, {@code grad_norm}, {@code skipped}, {@code seconds}, {@code tokens_per_s} or {@code images_per_s},
 * {@code elapsed_s}, the memory fields in bytes, {@code heap_used_bytes}; then the evaluation's metric on the steps
 * after which one ran, and the data-parallel figures ({@link io.accrue.train.GradientSync#lastStepMetrics}). A
 * value JSON cannot hold (NaN, ±∞) is null. Each line is flushed as it is written.
 */
final class MetricsLog implements AutoCloseable {
    private final BufferedWriter out;
    private final String rateKey;

    /**
     * Opens {@code file}: a fresh log, or with {@code resumedAt} ≥ 0 the lines up to that step kept and appended to.
     *
     * @param rateKey the throughput field, {@code tokens_per_s} or {@code images_per_s}
     */
    MetricsLog(Path file, String rateKey, long resumedAt) throws IOException {
        if (resumedAt >= 0) {
            truncate(file, resumedAt);
        }
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, resumedAt >= 0 ? StandardOpenOption.APPEND
                        : StandardOpenOption.TRUNCATE_EXISTING);
        this.rateKey = rateKey;
    }

    /** Writes one step's line with the extra fields (evaluation, synchronization) in order. */
    void write(StepReport r, Map<String, Object> extra) throws IOException {
        out.write(line(r, rateKey, extra));
        out.newLine();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** One line of {@code metrics.jsonl}. */
    static String line(StepReport r, String rateKey, Map<String, Object> extra) {
        StepMetrics m = r.metrics();
        MemoryUsage mem = r.memory();
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("step", m.step() + 1);
        j.put("epoch", m.epoch());
        j.put("k", m.accumulation());
        j.put("examples", m.examples());
        j.put("count", m.count());
        j.put("loss", m.loss());
        j.put("lr", m.lr());
        j.put("grad_norm", m.gradNorm());
        j.put("skipped", m.skipped());
        j.put("seconds", m.seconds());
        j.put(rateKey, r.rate());
        j.put("elapsed_s", r.elapsed());
        j.put("arena_floats", m.arenaFloats());
        j.put("weights_bytes", mem.weightsBytes());
        j.put("grads_bytes", mem.gradsBytes());
        j.put("optimizer_bytes", mem.optimizerBytes());
        j.put("optimizer_state_bytes", mem.optimizerStateBytes());
        j.put("arena_high_water_bytes", mem.arenaHighWaterBytes());
        j.put("memory_total_bytes", mem.totalBytes());
        j.put("heap_used_bytes", r.heapUsedBytes());
        j.putAll(extra);
        return Json.write(j, 0);
    }

    /**
     * Keeps the lines of {@code metrics.jsonl} up to optimizer step {@code step} (1-based, inclusive) before a
     * resume appends to it: a killed run may have logged steps after its last checkpoint, and its last line may
     * be cut off.
     */
    private static void truncate(Path file, long step) throws IOException {
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
}
