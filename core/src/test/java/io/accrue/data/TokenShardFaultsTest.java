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

    /**
     * A file rewritten in place with its size and modification time kept passes the stat before each batch; its
     * SHA-256, checked at the first batch and once per epoch's worth of windows, does not.
     */
    @Test
    void aFileRewrittenWithItsSizeAndTimeKeptFailsTheChecksumAtTheNextEpoch() throws Exception {
        Path f = shard();
        TokenShard shard = TokenShard.map(f, 1);
        String sha = shard.sha256();
        assertEquals(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(f))), sha, "the mapping's hash is the file's");
        TokenWindows w = new TokenWindows(shard, 16, 256, sha);
        assertEquals(768, w.size());
        for (int i = 0; i < 767; i++) {
            w.batch(new int[] {i}); // the first epoch, checked at its first batch
        }
        FileTime time = Files.getLastModifiedTime(f);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {42}), 100);
        }
        Files.setLastModifiedTime(f, time);
        shard.checkUnchanged();
        w.batch(new int[] {5}); // still the first epoch's worth
        String m = assertThrows(EnvironmentException.class, () -> w.batch(new int[] {5, 6})).getMessage();
        assertEquals(f + " holds other tokens than it was prepared with (SHA-256 " + shard.sha256().substring(0, 12)
                + "…, not " + sha.substring(0, 12) + "…): it was rewritten since, perhaps while the run read it; put "
                + "the original back (the run's checkpoints name its SHA-256) or prepare the data again and start a "
                + "new run", m);
        assertThrows(EnvironmentException.class, () -> new TokenWindows(shard, 16, 256, sha).batch(new int[] {0}),
                "checked at the first batch");
    }
}
