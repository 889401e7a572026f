package io.accrue.cli;

import io.accrue.data.Tokenizer;
import io.accrue.data.Tokenizers;
import io.accrue.train.Json;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The nanoGPT-style recipe on the command line — {@code prepare} → {@code train --data DIR} with validation →
 * {@code sample} — with GPT-2's tokenizer, a text file prepared on the fly, and bad input as one-line errors.
 */
class CliTextTest {
    @TempDir
    Path tmp;
    private Path text;
    private Path model;
    private final Tokenizer gpt2 = Tokenizers.byName("gpt2");

    @BeforeEach
    void files() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 30_000; i++) {
            sb.append("Chapter ").append(i).append(". It was the best of times, it was the worst of times; the ")
                    .append(i % 2 == 0 ? "café" : "naïve").append(" stood at number ").append(i * 37 % 1000)
                    .append(".\n\n");
        }
        text = Files.writeString(tmp.resolve("book.txt"), sb);
        model = Files.writeString(tmp.resolve("model.json"), "{\"layers\":1,\"heads\":2,\"width\":32}");
    }

    private static CliRun ok(List<String> args) {
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), String.join(" ", args) + "\nstderr: " + r.err() + "\nstdout: " + r.out());
        return r;
    }

    private static CliRun bad(String expected, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.code(), "exit code; stderr: " + r.err() + " stdout: " + r.out());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("accrue: "), err);
        assertTrue(err.contains(expected), "'" + expected + "' in: " + err);
        return r;
    }

    private CliRun prepare(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("prepare", "--data", text.toString(), "--out", out.toString(),
                "--progress", "plain"));
        a.addAll(List.of(extra));
        return ok(a);
    }

    /** Training options on {@code data}; {@code extra} holds option/value pairs that replace or add to these. */
    private List<String> train(Path data, Path out, String... extra) {
        return CliRun.withOptions(List.of("train", "--data", data.toString(), "--model", model.toString(),
                "--context", "32", "-b", "2", "-n", "4", "--steps", "4", "--warmup", "1", "--eval-every", "2",
                "--eval-tokens", "256", "--threads", "1", "--progress", "plain", "--out", out.toString()), extra);
    }

    @Test
    void prepareTrainWithValidationSample() throws IOException {
        Path prep = tmp.resolve("prep");
        CliRun p = prepare(prep, "--val-fraction", "0.1");
        assertTrue(p.out().contains("prepared " + prep), p.out());
        int[] ids = gpt2.encode(Files.readString(text));
        int val = (int) Math.round(ids.length * 0.1);
        assertArrayEquals(uint16(ids, 0, ids.length - val), Files.readAllBytes(prep.resolve("train.bin")));
        assertArrayEquals(uint16(ids, ids.length - val, ids.length), Files.readAllBytes(prep.resolve("val.bin")));
        Map<?, ?> meta = (Map<?, ?>) Json.parse(Files.readString(prep.resolve("meta.json")));
        assertEquals("gpt2", meta.get("tokenizer"));
        assertEquals(50257L, meta.get("vocab_size"));
        assertEquals("uint16", meta.get("dtype"));
        assertEquals(50256L, meta.get("end_of_text"));

        Path run = tmp.resolve("run");
        CliRun t = ok(train(prep, run));
        assertTrue(t.out().contains("V 50,257"), t.out());
        assertTrue(t.out().contains("validation after step 2: val_loss"), t.out());
        assertTrue(t.out().contains("validation after step 4: val_loss"), t.out());
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertTrue(lines.get(1).contains("\"val_loss\":"), lines.get(1));
        assertFalse(lines.get(2).contains("\"val_loss\":"), lines.get(2));
        Map<?, ?> results = (Map<?, ?>) Json.parse(Files.readString(run.resolve("results.json")));
        assertTrue(results.get("val_loss") instanceof Double, results.toString());
        assertTrue(results.get("best_val_loss") instanceof Double, results.toString());
        assertTrue(Files.isRegularFile(run.resolve("checkpoint-best").resolve("checkpoint.json")));
        assertTrue(Files.readString(run.resolve("report.html")).contains("val_loss"));

        CliRun s = ok(List.of("sample", "--checkpoint", run.toString(), "--prompt", "It was the café", "--tokens",
                "5"));
        assertTrue(s.out().startsWith("It was the café"), s.out());
        CliRun best = ok(List.of("sample", "--checkpoint", run.resolve("checkpoint-best").toString(), "--prompt",
                "Chapter", "--tokens", "3"));
        assertTrue(best.out().startsWith("Chapter"), best.out());
    }

    /** Documents: the files of a directory in sorted order, .gz read, separated by <|endoftext|>. */
    @Test
    void directoryOfDocumentsIsSeparatedByEndOfText() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(dir.resolve("2.txt"), "Second document.");
        Files.writeString(dir.resolve("1.txt"), "First document.");
        try (var o = new java.util.zip.GZIPOutputStream(Files.newOutputStream(dir.resolve("3.txt.gz")))) {
            o.write("Third, gzipped.".getBytes(StandardCharsets.UTF_8));
        }
        Path prep = tmp.resolve("prep");
        ok(List.of("prepare", "--data", dir.toString(), "--out", prep.toString(), "--val-fraction", "0.2"));
        List<Integer> all = new ArrayList<>();
        for (String doc : List.of("First document.", "Second document.", "Third, gzipped.")) {
            if (!all.isEmpty()) {
                all.add(50256);
            }
            Arrays.stream(gpt2.encode(doc)).forEach(all::add);
        }
        byte[] expected = uint16(all.stream().mapToInt(Integer::intValue).toArray(), 0, all.size());
        byte[] got = ByteBuffer.allocate(expected.length).put(Files.readAllBytes(prep.resolve("train.bin")))
                .put(Files.readAllBytes(prep.resolve("val.bin"))).array();
        assertArrayEquals(expected, got);
    }

    @Test
    void textFileWithGpt2IsPreparedIntoTheRunDirectory() throws IOException {
        Path run = tmp.resolve("run");
        CliRun t = ok(train(text, run, "--tokenizer", "gpt2", "--stop-after", "2", "--checkpoint-every", "2"));
        assertTrue(t.out().contains("tokenizing 1 file"), t.out());
        assertTrue(Files.isRegularFile(run.resolve("data").resolve("meta.json")));
        long stamp = Files.getLastModifiedTime(run.resolve("data").resolve("train.bin")).toMillis();
        CliRun resumed = ok(List.of("train", "--resume", run.toString(), "--progress", "plain"));
        assertFalse(resumed.out().contains("tokenizing"), "prepared data is reused: " + resumed.out());
        assertTrue(resumed.out().contains("resuming at step 2"), resumed.out());
        assertEquals(stamp, Files.getLastModifiedTime(run.resolve("data").resolve("train.bin")).toMillis());
    }

    @Test
    void nanoGptShardsWithoutMetaAreGpt2Tokens() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("nanogpt"));
        int[] ids = gpt2.encode(Files.readString(text));
        Files.write(dir.resolve("train.bin"), uint16(ids, 0, ids.length - 1000));
        Files.write(dir.resolve("val.bin"), uint16(ids, ids.length - 1000, ids.length));
        CliRun t = ok(train(dir, tmp.resolve("run")));
        assertTrue(t.out().contains("(gpt2, V 50,257)"), t.out());
    }

    @Test
    void badInputIsOneLineAndWritesNothing() throws IOException {
        Path out = tmp.resolve("out");
        Path latin1 = Files.write(tmp.resolve("latin1.txt"), "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1));
        bad("invalid UTF-8 at byte 3", "prepare", "--data", latin1.toString(), "--out", out.toString());
        Path empty = Files.createFile(tmp.resolve("empty.txt"));
        bad("the corpus is empty", "prepare", "--data", empty.toString(), "--out", out.toString());
        bad("--val-fraction must be between 0 and 1", "prepare", "--data", text.toString(), "--val-fraction", "1",
                "--out", out.toString());
        bad("unknown tokenizer 'gpt3'", "prepare", "--data", text.toString(), "--tokenizer", "gpt3", "--out",
                out.toString());
        assertFalse(Files.exists(out), "prepare wrote nothing");
        bad("invalid UTF-8 at byte 3", train(latin1, out, "--tokenizer", "gpt2").toArray(String[]::new));
        assertFalse(Files.exists(out), "train preparing a text file on the fly wrote nothing");

        Path prep = tmp.resolve("prep");
        prepare(prep, "--val-fraction", "0.01");
        bad("fewer than one validation sequence of T+1 = 1,025", train(prep, out, "--context", "1024")
                .toArray(String[]::new));
        bad("--tokenizer bytes does not match", train(prep, out, "--tokenizer", "bytes").toArray(String[]::new));
        bad("a text file read as bytes is all training data", train(text, out).toArray(String[]::new));
        assertFalse(Files.exists(out), "train wrote nothing");

        Path val = prep.resolve("val.bin");
        byte[] v = Files.readAllBytes(val);
        Files.write(val, new byte[] {7}, StandardOpenOption.APPEND);
        bad("is not a whole number of 2-byte token ids", train(prep, out).toArray(String[]::new));
        Files.write(val, v);
        Files.write(val, new byte[] {7, 0}, StandardOpenOption.APPEND);
        bad("the shards and meta.json do not belong together", train(prep, out).toArray(String[]::new));
        Files.write(val, v);
        assertFalse(Files.exists(out), "train wrote nothing");
    }

    @Test
    void reTokenizedDataDoesNotMatchTheRunsModel() throws IOException {
        Path prep = tmp.resolve("prep");
        prepare(prep);
        Path run = tmp.resolve("run");
        ok(train(prep, run, "--stop-after", "2", "--checkpoint-every", "2"));
        prepare(prep, "--tokenizer", "bytes");
        bad("holds tokens of the bytes tokenizer (V 256), but the run's model reads gpt2 (V 50,257)", "train",
                "--resume", run.toString());
    }

    /** {@code ids[from..to)} as little-endian uint16. */
    private static byte[] uint16(int[] ids, int from, int to) {
        ByteBuffer b = ByteBuffer.allocate(2 * (to - from)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = from; i < to; i++) {
            b.putShort((short) ids[i]);
        }
        return b.array();
    }
}
