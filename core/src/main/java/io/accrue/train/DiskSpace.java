package io.accrue.train;

import io.accrue.data.EnvironmentException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The free space of the file system a directory is on, checked before a write that must not run out of it (a
 * checkpoint), so that a full disk stops a run before its files are half written rather than in the middle of one.
 */
public final class DiskSpace {
    private DiskSpace() {
    }

    /** Bytes a non-privileged process may still write on {@code dir}'s file system ({@code dir} or its nearest ancestor). */
    public static long usable(Path dir) {
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return Long.MAX_VALUE;
        }
        try {
            return Files.getFileStore(existing).getUsableSpace();
        } catch (IOException e) {
            return Long.MAX_VALUE; // a file system that cannot say: the write itself will tell
        }
    }

    /**
     * Returns normally when {@code dir}'s file system has {@code bytes} free.
     *
     * @param what what needs the space, for the message: {@code the checkpoint at step 8}
     * @throws EnvironmentException one line: what needs how much, how much is free, what to do
     */
    public static void require(Path dir, long bytes, String what) {
        long free = usable(dir);
        if (free < bytes) {
            throw new EnvironmentException(String.format(Locale.ROOT, "no space left for %s in %s: it needs %s, "
                    + "%s free; free at least %s on that file system (df -h) or move the run to another", what, dir,
                    bytes(bytes), bytes(free), bytes(bytes - free)));
        }
    }

    /** Bytes in binary units with one decimal: {@code 512 B}, {@code 1.5 KiB}, {@code 6.9 MiB}. */
    public static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
