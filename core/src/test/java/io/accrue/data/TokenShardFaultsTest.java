package io.accrue.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A mapped shard whose file changes under the process: the windows check the file before each batch and name what
 * happened, and a read of a mapping past a truncated end is the JVM's {@link InternalError} (SIGBUS), not a crash.
 */
class TokenShardFaultsTest {
    @TempDir
    Path tmp;

    private Path shard() throws IOException {
        byte[] bytes = new byte[3 * 4096];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i % 251);
        }
        return Files.write(tmp.resolve("train.bin"), bytes);
    }

    private static String fault(TokenWindows w) {
        return assertThrows(EnvironmentException.class, () -> w.batch(new int[] {0, 5})).getMessage();
    }

    @Test
    void aTruncatedFileIsNamedBeforeItIsReadAndAReadPastItsEndIsAnInternalError() throws IOException {
        Path f = shard();
        TokenShard shard = TokenShard.map(f, 1);
        TokenWindows w = new TokenWindows(shard, 16, 256);
        assertEquals(5 * 16 % 251, w.batch(new int[] {5}).inputs()[0], "reads before the change");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.truncate(100);
        }
        assertEquals(f + " was truncated from 12,288 to 100 bytes while the run read it; put the original back (the "
                + "run's checkpoints name its SHA-256)", fault(w));
        InternalError sigbus = assertThrows(InternalError.class, () -> shard.get(3 * 4096 - 1));
        assertEquals(f + " was truncated from 12,288 to 100 bytes while the run read it; put the original back (the "
                + "run's checkpoints name its SHA-256)", shard.faulted(sigbus).getMessage());
    }

    @Test
    void aDeletedReplacedOrRewrittenFileIsNamed() throws IOException {
        Path f = shard();
        TokenWindows deleted = new TokenWindows(TokenShard.map(f, 1), 16, 256);
        Files.delete(f);
        assertEquals(f + " was deleted while the run read it; put the original back (the run's checkpoints name its "
                + "SHA-256)", fault(deleted));

        f = shard();
        TokenWindows replaced = new TokenWindows(TokenShard.map(f, 1), 16, 256);
        Path other = Files.write(tmp.resolve("other.bin"), Files.readAllBytes(f));
        Files.move(other, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        assertEquals(f + " was replaced by another file while the run read it; put the original back (the run's "
                + "checkpoints name its SHA-256)", fault(replaced));

        TokenWindows rewritten = new TokenWindows(TokenShard.map(f, 1), 16, 256);
        Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 60_000));
        assertEquals(f + " was rewritten (modified ", fault(rewritten).substring(0, f.toString().length() + 25));
    }
}
