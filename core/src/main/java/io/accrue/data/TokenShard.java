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

/**
 * A file of token ids, memory-mapped and read in place: never copied into the Java heap, so the heap does not grow
 * with the corpus. Each id is {@link #tokenBytes} bytes, little-endian and unsigned — 1 (a text file's bytes), 2
 * (nanoGPT's {@code train.bin}/{@code val.bin}, uint16) or 4 (uint32, for vocabularies beyond 65,536).
 *
 * <p>The mapping lives as long as the shard is reachable (a {@link Arena#ofAuto() GC-managed arena}); reads are safe
 * from any thread.
 */
public final class TokenShard {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment bytes;
    private final int tokenBytes;
    private final long size;

    private TokenShard(Path file, MemorySegment bytes, int tokenBytes) {
        this.file = file;
        this.bytes = bytes;
        this.tokenBytes = tokenBytes;
        this.size = bytes.byteSize() / tokenBytes;
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
            long n = ch.size();
            if (n % tokenBytes != 0) {
                throw new IllegalArgumentException(file + ": " + n + " bytes is not a whole number of " + tokenBytes
                        + "-byte token ids (a truncated or foreign file); prepare the data again with accrue prepare");
            }
            MemorySegment seg = n == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, n, Arena.ofAuto());
            return new TokenShard(file, seg, tokenBytes);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file; prepare the data with accrue prepare");
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException(file + ": permission denied; make it readable (chmod +r)");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot map (" + e.getMessage() + ")");
        }
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
        return new TokenShard(file, bytes.asSlice(0, tokens * tokenBytes), tokenBytes);
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
