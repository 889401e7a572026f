package io.accrue.run;

import io.accrue.data.EnvironmentException;
import io.accrue.train.AtomicFiles;
import io.accrue.train.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code metrics.jsonl}: one line of strict JSON per optimizer step, a {@link MetricsSchema} row (the README's table).
 * Each line is written whole or not at all: a write that fails (a full disk) is cut off again, and the file ends
 * with the line before.
 */
final class MetricsLog implements AutoCloseable {
    private final Path file;
    private final FileChannel out;
    /** The length of the complete lines: a write that fails is cut back to it. */
    private long committed;

    /**
     * Opens {@code file}: a fresh log, or with {@code resumedAt} ≥ 0 the lines up to that step kept and appended to.
     *
     * @throws EnvironmentException when the file cannot be written
     */
    MetricsLog(Path file, long resumedAt) {
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
    }

    /**
     * Writes one step's row ({@link MetricsSchema#row}).
     *
     * @throws EnvironmentException when it cannot be written (a full disk): the file then ends with the line before
     */
    void write(Map<String, Object> row) {
        ByteBuffer line = StandardCharsets.UTF_8.encode(MetricsSchema.json(row) + "\n");
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
