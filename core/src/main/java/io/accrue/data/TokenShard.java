package io.accrue.data;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * A file of token ids, memory-mapped and read in place: never copied into the Java heap, so the heap does not grow
 * with the corpus. Each id is {@link #tokenBytes} bytes, little-endian and unsigned — 1 (a text file's bytes), 2
 * (nanoGPT's {@code train.bin}/{@code val.bin}, uint16) or 4 (uint32, for vocabularies beyond 65,536).
 *
 * <p>The mapping lives as long as the shard is reachable (a {@link Arena#ofAuto() GC-managed arena}); reads are safe
 * from any thread. A file changed under the running process is detected ({@link #checkUnchanged}, and
 * {@link #checkContent} for a change that keeps its size and time) rather than read.
 */
public final class TokenShard {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment bytes;
    private final int tokenBytes;
    private final long size;
    /** The file as it was mapped: its identity (inode), size and modification time. */
    private final BasicFileAttributes mapped;

    private TokenShard(Path file, MemorySegment bytes, int tokenBytes, BasicFileAttributes mapped) {
        this.file = file;
        this.bytes = bytes;
        this.tokenBytes = tokenBytes;
        this.size = bytes.byteSize() / tokenBytes;
        this.mapped = mapped;
    }

    /**
     * Maps {@code file} read-only.
     *
     * @param tokenBytes bytes per id: 1, 2 or 4
     * @throws IllegalArgumentException one line naming a missing or unreadable file, or a size that is not a whole
     *                                  number of ids
     */
    public static TokenShard map(Path file, int tokenBytes) {
        if (tokenBytes != 1 && tokenBytes != 2 && tokenBytes != 4) {
            throw new IllegalArgumentException(file + ": token width " + tokenBytes + " bytes is not 1, 2 or 4");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            long n = ch.size();
            if (n % tokenBytes != 0) {
                throw new IllegalArgumentException(file + ": " + n + " bytes is not a whole number of " + tokenBytes
                        + "-byte token ids (a truncated or foreign file); prepare the data again with accrue prepare");
            }
            MemorySegment seg = n == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, n, Arena.ofAuto());
            return new TokenShard(file, seg, tokenBytes, attributes);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file; prepare the data with accrue prepare");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(file + ": permission denied; make it readable (chmod +r)");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot map (" + e.getMessage() + ")");
        }
    }

    /**
     * Returns normally when the file is still the one mapped, with its size and modification time: a file deleted,
     * replaced (renamed over), truncated or rewritten under a running process is a fault of the environment, and a
     * read of a mapping past a truncated end would end the JVM's access with SIGBUS. One {@code stat}: cheap enough to
     * call before every micro-batch.
     *
     * @throws EnvironmentException one line: what happened to the file and what to do
     */
    public void checkUnchanged() {
        String change = change();
        if (change != null) {
            throw new EnvironmentException(file + " " + change + " while the run read it; put the original back (the "
                    + "run's checkpoints name its SHA-256)");
        }
    }

    /**
     * Returns normally when the mapped bytes still hash to {@code expectedSha256}: what {@link #checkUnchanged} cannot
     * see, a file rewritten in place with its size and modification time kept (a copy that preserves times, a restore
     * from a backup of other data). One pass over the file, through the mapping: for once per epoch, not per batch.
     *
     * @throws EnvironmentException one line: the file no longer holds the data, and what to do
     */
    public void checkContent(String expectedSha256) {
        String now;
        try {
            now = sha256();
        } catch (InternalError e) {
            throw faulted(e);
        }
        if (!now.equals(expectedSha256)) {
            throw new EnvironmentException(file + " holds other tokens than it was prepared with (SHA-256 "
                    + now.substring(0, 12) + "…, not " + expectedSha256.substring(0, Math.min(12,
                    expectedSha256.length())) + "…): it was rewritten since, perhaps while the run read it; put the "
                    + "original back (the run's checkpoints name its SHA-256) or prepare the data again and start a new "
                    + "run");
        }
    }

    /** The SHA-256 of the file's bytes as mapped, in hex. */
    public String sha256() {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long chunk = 1L << 30; // a ByteBuffer view holds at most 2^31-1 bytes
        for (long at = 0; at < bytes.byteSize(); at += chunk) {
            md.update(bytes.asSlice(at, Math.min(chunk, bytes.byteSize() - at)).asByteBuffer());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * The fault of a read that failed with {@code e} (the JVM's {@link InternalError} for SIGBUS in a mapping): the
     * file changed after {@link #checkUnchanged}.
     */
    public EnvironmentException faulted(InternalError e) {
        String change = change();
        return new EnvironmentException(file + " " + (change != null ? change : "could not be read through its "
                + "mapping") + " while the run read it; put the original back (the run's checkpoints name its "
                + "SHA-256)", e);
    }

    /** What became of the file since it was mapped, in words; null when nothing did. */
    private String change() {
        BasicFileAttributes now;
        try {
            now = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return "was deleted";
        } catch (IOException e) {
            return "became unreadable (" + e.getMessage() + ")";
        }
        if (!Objects.equals(now.fileKey(), mapped.fileKey())) {
            return "was replaced by another file";
        }
        if (now.size() != mapped.size()) {
            return String.format(Locale.ROOT, "was %s from %,d to %,d bytes", now.size() < mapped.size()
                    ? "truncated" : "extended", mapped.size(), now.size());
        }
        if (!now.lastModifiedTime().equals(mapped.lastModifiedTime())) {
            return "was rewritten (modified " + now.lastModifiedTime() + ")";
        }
        return null;
    }

    /** Whether {@code file} exists and is a regular file. */
    public static boolean exists(Path file) {
        return Files.isRegularFile(file);
    }

    /** The file. */
    public Path file() {
        return file;
    }

    /** Number of token ids. */
    public long size() {
        return size;
    }

    /** Bytes per id. */
    public int tokenBytes() {
        return tokenBytes;
    }

    /** The id at {@code i}. */
    public int get(long i) {
        return switch (tokenBytes) {
            case 1 -> bytes.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            case 2 -> bytes.get(U16, 2 * i) & 0xffff;
            default -> {
                int v = bytes.get(U32, 4 * i);
                if (v < 0) {
                    throw new IllegalArgumentException(file + ": token id " + Integer.toUnsignedString(v)
                            + " at position " + i + " exceeds the largest vocabulary Accrue holds (2^31)");
                }
                yield v;
            }
        };
    }

    /** The first {@code tokens} ids, a view of the same mapping. */
    public TokenShard prefix(long tokens) {
        if (tokens < 0 || tokens > size) {
            throw new IllegalArgumentException("prefix of " + tokens + " tokens of a shard of " + size);
        }
        return new TokenShard(file, bytes.asSlice(0, tokens * tokenBytes), tokenBytes, mapped);
    }

    /** The largest id, read through the whole file (one sequential pass). -1 when empty. */
    public int max() {
        int m = -1;
        for (long i = 0; i < size; i++) {
            m = Math.max(m, get(i));
        }
        return m;
    }
}
