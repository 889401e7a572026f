package io.accrue.run;

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
 * The rows as CSV ({@code --csv FILE}): a header of the run's columns ({@link MetricsSchema#columns}), then a line
 * per step; a field the step lacks is an empty cell, a non-finite value is written {@code NaN}, {@code Infinity} or
 * {@code -Infinity} (as pandas reads them). Resuming keeps the rows up to the step resumed after and appends.
 */
public final class CsvLogger implements MetricsLogger {
    private final Path file;
    private List<String> columns;
    private BufferedWriter out;

    public CsvLogger(Path file) {
        this.file = file;
    }

    @Override
    public void open(List<String> columns, long resumedAfter) throws IOException {
        this.columns = List.copyOf(columns);
        List<String> lines = new ArrayList<>();
        lines.add(String.join(",", columns));
        if (resumedAfter >= 0 && Files.isRegularFile(file)) {
            lines.addAll(rowsUpTo(Files.readAllLines(file, StandardCharsets.UTF_8), resumedAfter));
        }
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, lines, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    /** The data lines (after the header) whose first cell, the step, is at most {@code step}. */
    private static List<String> rowsUpTo(List<String> lines, long step) {
        List<String> keep = new ArrayList<>();
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            int comma = line.indexOf(',');
            try {
                if (comma > 0 && Long.parseLong(line.substring(0, comma)) <= step) {
                    keep.add(line);
                }
            } catch (NumberFormatException e) {
                // a line cut off by a kill: dropped
            }
        }
        return keep;
    }

    @Override
    public void log(Map<String, Object> row) throws IOException {
        StringBuilder line = new StringBuilder();
        for (String c : columns) {
            if (!line.isEmpty()) {
                line.append(',');
            }
            Object v = row.get(c);
            if (v != null) {
                line.append(v);
            }
        }
        out.write(line.toString());
        out.newLine();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
        }
    }
}
