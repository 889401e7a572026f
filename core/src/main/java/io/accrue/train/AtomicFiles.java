package io.accrue.train;

import io.accrue.data.EnvironmentException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Whole files written so that a reader sees the old one or the new one, never part of either: the text goes to
 * {@code <name>.tmp}, is forced to disk and renamed over {@code <name>}. When the write fails (a full disk), the
 * temporary file is removed and the old file is left as it was.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /**
     * Replaces {@code file} by {@code text} (UTF-8) atomically.
     *
     * @throws EnvironmentException one line naming the file and what the file system said (no space left, read-only)
     */
    public static void write(Path file, String text) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw EnvironmentException.of("write", file, e);
        }
    }

    /** Deletes {@code file} if it is there; a failure to delete (the cause of the trouble, often) is not reported. */
    public static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // the original fault is the one to report
        }
    }
}
