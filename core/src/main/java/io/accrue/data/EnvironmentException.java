package io.accrue.data;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The machine failed the run, not its input: a full disk, a directory that cannot be created or written, data that
 * vanished or changed under a running process, a checkpoint of another Accrue version. The message is one line
 * naming what happened, where, and what to do; the command line exits with its own code for these (4).
 */
public final class EnvironmentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EnvironmentException(String message) {
        super(message);
    }

    public EnvironmentException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * The fault of {@code e}, raised while {@code doing} {@code file}: {@code cannot write F: no space left on device;
     * free space on its file system}.
     *
     * @param doing a verb: {@code write}, {@code create}, {@code read}
     */
    public static EnvironmentException of(String doing, Path file, IOException e) {
        return new EnvironmentException("cannot " + doing + " " + file + ": " + reason(e) + remedy(e), e);
    }

    /** This fault with {@code more} (what the run kept, how to go on) after it, one line still. */
    public EnvironmentException then(String more) {
        return new EnvironmentException(getMessage() + "; " + more, getCause());
    }

    /** Whether {@code e} says the file system is full (ENOSPC, EDQUOT) or the file-size limit was hit (EFBIG). */
    public static boolean isDiskFull(IOException e) {
        String r = String.valueOf(reasonText(e)).toLowerCase(Locale.ROOT);
        return r.contains("no space left") || r.contains("quota exceeded") || r.contains("file too large");
    }

    /** What the operating system said, in lower case: {@code no space left on device}, {@code read-only file system}. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        String r = reasonText(e);
        if (r == null) {
            return e.getClass().getSimpleName();
        }
        return r.isEmpty() ? r : Character.toLowerCase(r.charAt(0)) + r.substring(1);
    }

    private static String reasonText(IOException e) {
        if (e instanceof AccessDeniedException a && a.getReason() == null) {
            return "permission denied";
        }
        return e instanceof FileSystemException f ? f.getReason() : e.getMessage();
    }

    /** What to do about {@code e}'s kind of fault, after a semicolon; empty when there is nothing general to say. */
    private static String remedy(IOException e) {
        String r = reason(e);
        if (r.contains("file too large")) {
            return " (the file-size limit: ulimit -f); raise the limit";
        }
        if (isDiskFull(e)) {
            return "; free space on that file system (df -h) or choose a directory on another";
        }
        if (r.contains("read-only") || r.contains("permission denied")) {
            return "; make it writable or choose another directory";
        }
        if (r.contains("not a directory")) {
            return "; a part of that path is a file: choose another directory";
        }
        return "";
    }
}
