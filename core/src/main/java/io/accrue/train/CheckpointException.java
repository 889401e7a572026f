package io.accrue.train;

import java.nio.file.Path;

/** A checkpoint file that cannot be used: missing, truncated, corrupt, or from another model. */
public final class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
