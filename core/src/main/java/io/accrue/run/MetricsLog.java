package io.accrue.run;

import io.accrue.train.Json;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.jsonl}: one line of strict JSON per optimizer step, a {@link MetricsSchema} row (the README's table).
 * Each line is flushed as it is written.
 */
final class MetricsLog implements AutoCloseable {
    private final BufferedWriter out;

    /**
     * Opens {@code file}: a fresh log, or with {@code resumedAt} ≥ 0 the lines up to that step kept and appended to.
     */
    MetricsLog(Path file, long resumedAt) throws IOException {
        if (resumedAt >= 0) {
            truncate(file, resumedAt);
        }
        this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, resumedAt >= 0 ? StandardOpenOption.APPEND
                        : StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** Writes one step's row ({@link MetricsSchema#row}). */
    void write(Map<String, Object> row) throws IOException {
        out.write(MetricsSchema.json(row));
        out.newLine();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
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
