package io.accrue.data;

import io.accrue.models.TokenBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Memory-mapped token shards and their windows of T+1 tokens, up to and across the end of a shard. */
class TokenWindowsTest {
    @TempDir
    Path tmp;

    @Test
    void bytesOfAFileGiveTheSameBatchesAsTheInMemorySequences() throws IOException {
        for (int n : new int[] {2, 3, 17, 64, 65, 66, 1000}) {
            byte[] text = new byte[n];
            for (int i = 0; i < n; i++) {
                text[i] = (byte) (i * 37 + 11);
            }
            Path f = Files.write(tmp.resolve("text-" + n), text);
            for (int t : new int[] {1, 4, 16, 64}) {
                SequenceDataset oracle = inMemory(text, t);
                TokenWindows mapped = new TokenWindows(TokenShard.map(f, 1), t, 256);
                assertEquals(oracle.size(), mapped.size(), "n " + n + " T " + t);
                int[] all = new int[mapped.size()];
                for (int i = 0; i < all.length; i++) {
                    all[i] = all.length - 1 - i; // reversed, as a shuffle would
                }
                TokenBatch a = oracle.batch(all);
                TokenBatch b = mapped.batch(all);
                assertArrayEquals(a.inputs(), b.inputs(), "n " + n + " T " + t);
                assertArrayEquals(a.targets(), b.targets(), "n " + n + " T " + t);
                assertArrayEquals(a.exampleIds(), b.exampleIds());
            }
        }
    }

    /** The byte-level text task's sequences before shards were memory-mapped: T+1 bytes at stride T, in the heap. */
    private static SequenceDataset inMemory(byte[] bytes, int seq) {
        List<int[]> seqs = new ArrayList<>();
        for (int start = 0; start + 1 < bytes.length; start += seq) {
            int end = Math.min(bytes.length, start + seq + 1);
            int[] s = new int[end - start];
            for (int i = 0; i < s.length; i++) {
                s[i] = bytes[start + i] & 0xff;
            }
            seqs.add(s);
        }
        return new SequenceDataset(seqs, seq);
    }

    @Test
    void readingUpToAndAcrossTheEndOfAShard() throws IOException {
        // 11 uint16 tokens 100..110 at T = 4: windows start at 0, 4, 8; the last holds 3 tokens and is padded
        Path f = shard(tmp.resolve("train.bin"), 2, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110);
        TokenWindows w = new TokenWindows(TokenShard.map(f, 2), 4, 200);
        assertEquals(3, w.size());
        assertEquals(2, w.fullWindows());
        TokenBatch b = w.batch(new int[] {1, 2});
        assertArrayEquals(new int[] {104, 105, 106, 107, 108, 109, 110, 0}, b.inputs());
        assertArrayEquals(new int[] {105, 106, 107, 108, 109, 110, TokenBatch.IGNORE, TokenBatch.IGNORE}, b.targets());
        // exactly T+1 tokens left: a full last window that ends on the shard's last token
        Path g = shard(tmp.resolve("nine.bin"), 2, 0, 1, 2, 3, 4, 5, 6, 7, 8);
        TokenWindows v = new TokenWindows(TokenShard.map(g, 2), 4, 200);
        assertEquals(2, v.size());
        assertEquals(2, v.fullWindows());
        assertArrayEquals(new int[] {5, 6, 7, 8}, v.batch(new int[] {1}).targets());
        assertThrows(IndexOutOfBoundsException.class, () -> v.batch(new int[] {2}));
    }

    @Test
    void littleEndianWidths() throws IOException {
        Path u16 = shard(tmp.resolve("u16.bin"), 2, 0, 1, 255, 256, 65535, 50256);
        TokenShard s = TokenShard.map(u16, 2);
        assertEquals(6, s.size());
        assertEquals(65535, s.get(4));
        assertEquals(50256, s.get(5));
        byte[] raw = Files.readAllBytes(u16);
        assertEquals(0x50, raw[10] & 0xff); // 50256 = 0xC450, low byte first
        assertEquals(0xC4, raw[11] & 0xff);
        Path u32 = shard(tmp.resolve("u32.bin"), 4, 70_000, 1 << 20, 3);
        TokenShard w = TokenShard.map(u32, 4);
        assertEquals(List.of(70_000, 1 << 20, 3), List.of(w.get(0), w.get(1), w.get(2)));
        assertEquals(1 << 20, w.max());
    }

    @Test
    void sizeNotAWholeNumberOfIdsIsRefused() throws IOException {
        Path f = Files.write(tmp.resolve("odd.bin"), new byte[] {1, 0, 2});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenShard.map(f, 2));
        assertTrue(e.getMessage().contains("3 bytes is not a whole number of 2-byte token ids"), e.getMessage());
    }

    @Test
    void idOutsideTheVocabularyNamesShardAndPosition() throws IOException {
        Path f = shard(tmp.resolve("big.bin"), 2, 1, 2, 300, 4);
        TokenWindows w = new TokenWindows(TokenShard.map(f, 2), 3, 256);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.batch(new int[] {0}));
        assertTrue(e.getMessage().contains("token id 300 at position 2"), e.getMessage());
    }

    @Test
    void fewerThanTwoTokensAreNoData() throws IOException {
        Path f = shard(tmp.resolve("one.bin"), 2, 7);
        assertThrows(IllegalArgumentException.class, () -> new TokenWindows(TokenShard.map(f, 2), 4, 256));
    }

    static Path shard(Path f, int width, int... ids) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(ids.length * width).order(ByteOrder.LITTLE_ENDIAN);
        for (int id : ids) {
            if (width == 2) {
                b.putShort((short) id);
            } else {
                b.putInt(id);
            }
        }
        return Files.write(f, b.array());
    }
}
