package io.accrue.run;

import io.accrue.data.ByteTokenizer;
import io.accrue.data.Tokenizer;
import io.accrue.data.Tokenizers;
import io.accrue.train.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code accrue prepare}'s core: the shard layout byte for byte, documents, .gz, bad input, atomic outputs. */
class PrepareTest {
    @TempDir
    Path tmp;

    private PreparedData prepare(Tokenizer tok, double valFraction, Path out, Path... inputs) throws IOException {
        return Prepare.run(new Prepare.Options(List.of(inputs), tok, valFraction, out, 2, false, 5), Prepare.Listener.NONE);
    }

    @Test
    void shardLayoutByteForByte() throws IOException {
        Path f = Files.writeString(tmp.resolve("a.txt"), "hello\nwörld"); // 12 UTF-8 bytes
        Path out = tmp.resolve("out");
        PreparedData p = prepare(new ByteTokenizer(), 0.25, out, f);
        assertEquals(9, p.trainTokens());
        assertEquals(3, p.valTokens());
        byte[] utf8 = "hello\nwörld".getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(uint16(utf8, 0, 9), Files.readAllBytes(out.resolve("train.bin")));
        assertArrayEquals(uint16(utf8, 9, 12), Files.readAllBytes(out.resolve("val.bin")));
        Map<?, ?> meta = (Map<?, ?>) Json.parse(Files.readString(out.resolve("meta.json")));
        assertEquals("bytes", meta.get("tokenizer"));
        assertEquals(256L, meta.get("vocab_size"));
        assertEquals("uint16", meta.get("dtype"));
        assertEquals(2L, meta.get("token_bytes"));
        assertEquals(9L, meta.get("train_tokens"));
        assertEquals(3L, meta.get("val_tokens"));
        assertEquals(PreparedData.sha256(out.resolve("train.bin")), meta.get("train_sha256"));
        List<?> sources = (List<?>) meta.get("sources");
        assertEquals(1, sources.size());
        Map<?, ?> s = (Map<?, ?>) sources.getFirst();
        assertEquals(f.toString(), s.get("path"));
        assertEquals(12L, s.get("bytes"));
        assertEquals(PreparedData.sha256(f), s.get("sha256"));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of("meta.json", "train.bin", "val.bin"),
                    files.map(x -> x.getFileName().toString()).sorted().toList(), "no temporary file left");
        }
    }

    /** {@code ids} as little-endian uint16, from {@code from} to {@code to}. */
    private static byte[] uint16(byte[] ids, int from, int to) {
        ByteBuffer b = ByteBuffer.allocate(2 * (to - from)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; i++) {
            b.putShort((short) (ids[i] & 0xff));
        }
        return b.array();
    }

    @Test
    void wideVocabularyIsUint32AndDocumentsAreSeparated() throws IOException {
        Tokenizer wide = Tokenizers.byName("test-wide");
        Path dir = Files.createDirectories(tmp.resolve("corpus"));
        Files.writeString(dir.resolve("b.txt"), "bé");
        Files.writeString(dir.resolve("a.txt"), "a😀");
        Files.writeString(dir.resolve(".hidden"), "never read");
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(dir.resolve("c.txt.gz")))) {
            o.write("cd".getBytes(StandardCharsets.UTF_8));
        }
        Path out = tmp.resolve("out");
        PreparedData p = prepare(wide, 0.25, out, dir);
        // a.txt, b.txt, c.txt.gz in path order, end-of-text between documents: a 😀 | b é | c d → 8 ids (😀 is beyond
        // this tokenizer: 69,998), val the last 2
        int[] ids = {'a', 69_998, 69_999, 'b', 'é', 69_999, 'c', 'd'};
        assertEquals(4, p.tokenBytes());
        assertEquals(6, p.trainTokens());
        assertEquals(2, p.valTokens());
        ByteBuffer train = ByteBuffer.wrap(Files.readAllBytes(out.resolve("train.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer val = ByteBuffer.wrap(Files.readAllBytes(out.resolve("val.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            assertEquals(ids[i], train.getInt(), "train id " + i);
        }
        assertEquals(ids[6], val.getInt());
        assertEquals(ids[7], val.getInt());
        assertEquals(ids[1], p.train().get(1));
        Map<?, ?> meta = (Map<?, ?>) Json.parse(Files.readString(out.resolve("meta.json")));
        assertEquals("uint32", meta.get("dtype"));
        List<?> sources = (List<?>) meta.get("sources");
        assertEquals(List.of("a.txt", "b.txt", "c.txt.gz"), sources.stream()
                .map(s -> Path.of((String) ((Map<?, ?>) s).get("path")).getFileName().toString()).toList());
        assertEquals(Files.size(dir.resolve("c.txt.gz")), ((Map<?, ?>) sources.get(2)).get("bytes"));
    }

    @Test
    void invalidUtf8IsRefusedNamingTheOffsetOrReplaced() throws IOException {
        Path f = Files.write(tmp.resolve("latin1.txt"), "caf\u00e9 ok".getBytes(StandardCharsets.ISO_8859_1));
        Path out = tmp.resolve("out");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> prepare(new ByteTokenizer(), 0.3, out, f));
        assertTrue(e.getMessage().contains("invalid UTF-8 at byte 3"), e.getMessage());
        assertTrue(e.getMessage().contains("--invalid-utf8 replace"), e.getMessage());
        assertFalse(Files.exists(out), "nothing written");
        PreparedData p = Prepare.run(new Prepare.Options(List.of(f), new ByteTokenizer(), 0.3, out, 1, true, 5),
                Prepare.Listener.NONE);
        Map<?, ?> meta = (Map<?, ?>) Json.parse(Files.readString(out.resolve("meta.json")));
        assertEquals(1L, meta.get("replaced_invalid_utf8"));
        assertEquals("replaced", meta.get("invalid_utf8"));
        assertEquals("caf\uFFFD ok".getBytes(StandardCharsets.UTF_8).length, p.trainTokens() + p.valTokens());
    }

    @Test
    void emptyCorpusAndTooSmallSplitsAreRefused() throws IOException {
        Path empty = Files.createFile(tmp.resolve("empty.txt"));
        Path out = tmp.resolve("out");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> prepare(new ByteTokenizer(), 0.1, out, empty));
        assertTrue(e.getMessage().contains("the corpus is empty"), e.getMessage());
        Path tiny = Files.writeString(tmp.resolve("tiny.txt"), "abcde");
        e = assertThrows(IllegalArgumentException.class, () -> prepare(new ByteTokenizer(), 0.1, out, tiny));
        assertTrue(e.getMessage().contains("each needs at least 2"), e.getMessage());
        assertFalse(Files.exists(out), "nothing written");
        e = assertThrows(IllegalArgumentException.class, () -> prepare(new ByteTokenizer(), 0, out, tiny));
        assertTrue(e.getMessage().contains("--val-fraction must be between 0 and 1"), e.getMessage());
        Path emptyDir = Files.createDirectories(tmp.resolve("nothing"));
        e = assertThrows(IllegalArgumentException.class, () -> prepare(new ByteTokenizer(), 0.1, out, emptyDir));
        assertTrue(e.getMessage().contains("holds no files"), e.getMessage());
    }

    @Test
    void aFailedPrepareLeavesTheEarlierShardsAsTheyWere() throws IOException {
        Path good = Files.writeString(tmp.resolve("good.txt"), "some good text to tokenize");
        Path out = tmp.resolve("out");
        prepare(new ByteTokenizer(), 0.2, out, good);
        byte[] train = Files.readAllBytes(out.resolve("train.bin"));
        String meta = Files.readString(out.resolve("meta.json"));
        Path bad = Files.write(tmp.resolve("bad.txt"), new byte[] {'o', 'k', ' ', (byte) 0xff, 'x'});
        assertThrows(IllegalArgumentException.class, () -> prepare(new ByteTokenizer(), 0.2, out, good, bad));
        assertArrayEquals(train, Files.readAllBytes(out.resolve("train.bin")));
        assertEquals(meta, Files.readString(out.resolve("meta.json")));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(3, files.count(), "no temporary file left");
        }
    }

    @Test
    void outputInsideAnInputDirectoryIsRefused() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("corpus"));
        Files.writeString(dir.resolve("a.txt"), "text text text");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> prepare(new ByteTokenizer(), 0.2, dir.resolve("prepared"), dir));
        assertTrue(e.getMessage().contains("lies inside --data"), e.getMessage());
    }

    @Test
    void preparedDirectoryChecksItsShardsAgainstMeta() throws IOException {
        Path f = Files.writeString(tmp.resolve("a.txt"), "0123456789abcdefghij");
        Path out = tmp.resolve("out");
        prepare(new ByteTokenizer(), 0.2, out, f);
        PreparedData ok = PreparedData.open(out, null, true);
        assertEquals(16, ok.trainTokens());
        Path val = out.resolve("val.bin");
        byte[] v = Files.readAllBytes(val);
        Files.write(val, new byte[] {1, 0}, java.nio.file.StandardOpenOption.APPEND);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PreparedData.open(out, null, true));
        assertTrue(e.getMessage().contains("holds 5 tokens, but") && e.getMessage().contains("records 4"),
                e.getMessage());
        Files.write(val, new byte[] {1, 0, 2});
        e = assertThrows(IllegalArgumentException.class, () -> PreparedData.open(out, null, true));
        assertTrue(e.getMessage().contains("not a whole number of 2-byte token ids"), e.getMessage());
        Files.write(val, v);
        Files.writeString(out.resolve("meta.json"), Files.readString(out.resolve("meta.json"))
                .replace("\"dtype\"", "\"colour\": 1, \"dtype\""));
        e = assertThrows(IllegalArgumentException.class, () -> PreparedData.open(out, null, true));
        assertTrue(e.getMessage().contains("unknown key 'colour'"), e.getMessage());
    }

    @Test
    void nanoGptShardsWithoutMetaAreUint16OfTheTokenizerGiven() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("nanogpt"));
        Files.write(dir.resolve("train.bin"), new byte[] {10, 0, 20, 0, 30, 0});
        Files.write(dir.resolve("val.bin"), new byte[] {40, 0, 50, 0});
        PreparedData p = PreparedData.open(dir, "bytes", true);
        assertFalse(p.hasMeta());
        assertEquals(3, p.trainTokens());
        assertEquals(2, p.valTokens());
        assertEquals(20, p.train().get(1));
        Files.write(dir.resolve("val.bin"), new byte[] {40, 0, 0, 1});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PreparedData.open(dir, "bytes", true));
        assertTrue(e.getMessage().contains("token id 256, outside the bytes tokenizer's vocabulary"), e.getMessage());
    }

    @Test
    void manySmallDocumentsKeepTheirOrderAndSeparators() throws IOException {
        Tokenizer wide = Tokenizers.byName("test-wide");
        Path dir = Files.createDirectories(tmp.resolve("docs"));
        java.util.List<Integer> expected = new java.util.ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String doc = "document " + i + " " + "é✓".repeat(i % 7) + "\n".repeat(i % 3);
            Files.writeString(dir.resolve(String.format("%03d.txt", i)), doc);
            if (i > 0) {
                expected.add(69_999);
            }
            for (int id : wide.encode(doc)) {
                expected.add(id);
            }
        }
        Path out = tmp.resolve("out");
        PreparedData p = Prepare.run(new Prepare.Options(List.of(dir), wide, 0.1, out, 2, false, 3),
                Prepare.Listener.NONE);
        assertEquals(expected.size(), p.trainTokens() + p.valTokens());
        for (int i = 0; i < expected.size(); i++) {
            long at = i;
            int got = at < p.trainTokens() ? p.train().get(at) : p.val().get(at - p.trainTokens());
            assertEquals(expected.get(i), got, "id " + i);
        }
    }
}
