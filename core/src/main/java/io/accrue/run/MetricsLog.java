package io.accrue.run;

import io.accrue.data.EnvironmentException;
import io.accrue.train.AtomicFiles;
import io.accrue.train.Json;
import io.accrue.train.MemoryUsage;
import io.accrue.train.StepMetrics;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code metrics.jsonl}: one JSON object per optimizer step, the same fields for every front end (the README's
 * table): {@code step} (1-based), {@code epoch}, {@code k}, {@code examples}, {@code count}, {@code loss},
 * {@code lr}, {@code grad_norm}, {@code skipped}, {@code seconds}, {@code tokens_per_s} or {@code images_per_s},
 * {@code elapsed_s}, the memory fields in bytes, {@code heap_used_bytes}; then the evaluation's metric on the steps
 * after which one ran, and the data-parallel figures ({@link io.accrue.train.GradientSync#lastStepMetrics}). A
 * value JSON cannot hold (NaN, ±∞) is null. Each line is written whole or not at all: a write that fails (a full
 * disk) is cut off again, and the file ends with the line before.
 */
final class MetricsLog implements AutoCloseable {
    private final Path file;
    private final FileChannel out;
    private final String rateKey;
    /** The length of the complete lines: a write that fails is cut back to it. */
    private long committed;

    /**
     * Opens {@code file}: a fresh log, or with {@code resumedAt} ≥ 0 the lines up to that step kept and appended to.
     *
     * @param rateKey the throughput field, {@code tokens_per_s} or {@code images_per_s}
     * @throws EnvironmentException when the file cannot be written
     */
    MetricsLog(Path file, String rateKey, long resumedAt) {
        this.file = file;
        try {
            if (resumedAt >= 0) {
                truncate(file, resumedAt);
            }
            this.out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    resumedAt >= 0 ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
            this.committed = out.size();
        } catch (IOException e) {
            throw EnvironmentException.of("write", file, e);
        }
        this.rateKey = rateKey;
    }

    /**
     * Writes one step's line with the extra fields (evaluation, synchronization) in order.
     *
     * @throws EnvironmentException when it cannot be written (a full disk): the file then ends with the line before
     */
    void write(StepReport r, Map<String, Object> extra) {
        ByteBuffer line = StandardCharsets.UTF_8.encode(line(r, rateKey, extra) + "\n");
        try {
            while (line.hasRemaining()) {
                out.write(line);
            }
            committed = out.position();
        } catch (IOException e) {
            try {
                out.truncate(committed);
            } catch (IOException cut) {
                e.addSuppressed(cut);
            }
            throw EnvironmentException.of("write", file, e);
        }
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
        AtomicFiles.write(file, keep.stream().map(l -> l + "\n").collect(Collectors.joining()));
    }
}
