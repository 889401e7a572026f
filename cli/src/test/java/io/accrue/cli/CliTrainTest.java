package io.accrue.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** End to end: {@code accrue train} on tiny settings, checkpoints, bit-exact resume, corrupt checkpoints. */
class CliTrainTest {
    @TempDir
    Path tmp;

    /**
     * 64 problems, B=4 × K=4: 4 steps per epoch, so 12 steps cross two epoch boundaries; dropout is keyed.
     * {@code extra} holds option/value pairs that replace or add to these.
     */
    private static List<String> tiny(Path out, String... extra) {
        return CliRun.withOptions(List.of("train", "--train-size", "64", "--eval-size", "20", "-b", "4", "-n",
                "16", "--steps", "12", "--warmup", "2", "--dropout", "0.1", "--threads", "1", "--out", out.toString()),
                extra);
    }

    private static CliRun ok(List<String> args) {
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), "stderr: " + r.err() + "\nstdout: " + r.out());
        return r;
    }

    private static Path modelFile(Path out) throws IOException {
        return CliRun.newest(out, "model_file");
    }

    @Test
    void trainsTheAdditionTaskAndWritesMetricsResultsReportAndCheckpoint() throws IOException {
        Path out = tmp.resolve("run");
        CliRun r = ok(tiny(out));
        assertTrue(r.out().contains("B=4 × K=4 = effective 16"), r.out());
        assertTrue(r.out().contains("step 12/12"), r.out());
        assertTrue(r.out().contains("held-out exact match:"), r.out());
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(12, lines.size());
        assertTrue(lines.getFirst().startsWith("{\"step\":1,\"epoch\":0.25,\"loss\":"), lines.getFirst());
        assertTrue(lines.get(5).startsWith("{\"step\":6,\"epoch\":1.5,\"loss\":"), "64 problems, 16 per step");
        assertTrue(Files.readString(out.resolve("results.json")).contains("\"heldout_exact_match\""));
        assertTrue(Files.readString(out.resolve("report.html")).contains("data:image/png;base64,"));
        assertTrue(Files.exists(out.resolve("checkpoint/checkpoint.json")));
        assertTrue(modelFile(out).getFileName().toString().equals("model-00000012.safetensors"));

        CliRun s = CliRun.of("sample", "--checkpoint", out.toString(), "--prompt", "123+456=");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().startsWith("123+456="), s.out());
    }

    @Test
    void trainsOnATextFile() throws IOException {
        Path text = Files.writeString(tmp.resolve("t.txt"), "the quick brown fox jumps over the lazy dog. ".repeat(20));
        Path out = tmp.resolve("text");
        CliRun r = ok(List.of("train", "--data", text.toString(), "--model", "tiny", "--context", "16", "-b", "4", "-k",
                "2", "--steps", "3", "--threads", "1", "--out", out.toString()));
        assertTrue(r.out().contains("V 256"), r.out());
        assertEquals(3, Files.readAllLines(out.resolve("metrics.jsonl")).size());
    }

    @Test
    void resumedRunEndsWithTheSameBitsAsAnUninterruptedOne() throws IOException {
        Path whole = tmp.resolve("whole");
        Path first = tmp.resolve("first");
        Path resumed = tmp.resolve("resumed");
        ok(tiny(whole));
        CliRun stopped = ok(tiny(first, "--stop-after", "6", "--checkpoint-every", "3"));
        assertTrue(stopped.out().contains("stopped after 6 steps"), stopped.out());
        CliRun r = ok(tiny(resumed, "--resume", first.toString()));
        assertTrue(r.out().contains("resuming at step 6"), r.out());
        assertTrue(r.out().contains("step 7/12"), r.out());
        assertArrayEquals(Files.readAllBytes(modelFile(whole)), Files.readAllBytes(modelFile(resumed)),
                "weights after 12 steps, uninterrupted vs stopped at 6 and resumed");
        assertArrayEquals(Files.readAllBytes(CliRun.newest(whole, "optimizer_file")),
                Files.readAllBytes(CliRun.newest(resumed, "optimizer_file")), "optimizer state");
    }

    @Test
    void corruptTruncatedOrForeignCheckpointsAreOneLineErrors() throws IOException {
        Path run = tmp.resolve("run");
        ok(tiny(run, "--steps", "2", "--warmup", "1", "--eval-size", "0"));
        Path model = modelFile(run);
        byte[] good = Files.readAllBytes(model);

        byte[] flipped = good.clone();
        flipped[flipped.length - 3] ^= 1;
        Files.write(model, flipped);
        expectError(run, model.getFileName() + ": corrupt: SHA-256 differs");

        try (RandomAccessFile f = new RandomAccessFile(model.toFile(), "rw")) {
            f.setLength(good.length / 2);
        }
        expectError(run, model.getFileName() + ": truncated");
        Files.write(model, good);

        Path sidecar = run.resolve("checkpoint/checkpoint.json");
        String json = Files.readString(sidecar);
        Files.writeString(sidecar, json.substring(0, json.length() / 2));
        expectError(run, "checkpoint.json: corrupt or truncated JSON");
        Files.writeString(sidecar, json);

        CliRun foreign = CliRun.of(tiny(tmp.resolve("other"), "--model", "small", "--resume", run.toString())
                .toArray(String[]::new));
        assertEquals(2, foreign.code(), foreign.err());
        assertTrue(foreign.err().contains("the checkpoint's run has model = adder, these options give small"),
                foreign.err());
    }

    private void expectError(Path run, String expected) {
        Path out = tmp.resolve("resumed-" + System.nanoTime());
        CliRun r = CliRun.of(tiny(out, "--steps", "4", "--warmup", "1", "--resume", run.toString())
                .toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().strip().lines().count() == 1 && r.err().contains(expected), r.err());
        assertTrue(!Files.exists(out), "nothing written on a bad checkpoint");
    }
}
