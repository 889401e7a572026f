package io.accrue.cli;

import io.accrue.run.RunSpec;
import io.accrue.train.Checkpoint;
import io.accrue.train.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run's description: printed by --print-spec, stored in every checkpoint, enough to resume with alone. */
class CliRunSpecTest {
    @TempDir
    Path tmp;

    private static final String[] TINY = {"train", "--train-size", "64", "--eval-size", "0", "-b", "4", "-n", "16",
        "--steps", "8", "--warmup", "2", "--threads", "1", "--seed", "5", "--lr", "2e-3"};

    private static CliRun ok(String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    private static String[] with(String... extra) {
        String[] a = java.util.Arrays.copyOf(TINY, TINY.length + extra.length);
        System.arraycopy(extra, 0, a, TINY.length, extra.length);
        return a;
    }

    private static byte[] file(Path run, String prefix) throws IOException {
        return Files.readAllBytes(CliRun.newest(run, prefix.equals("model-") ? "model_file" : "optimizer_file"));
    }

    @Test
    void printSpecValidatesPrintsAndWritesNothing() {
        Path out = tmp.resolve("never");
        CliRun r = ok(with("--print-spec", "--out", out.toString()));
        RunSpec spec = RunSpec.fromJson(r.out());
        assertEquals(4, spec.train().microBatch());
        assertEquals(4, spec.train().accumulationSteps());
        assertEquals(2e-3, spec.train().lr());
        assertEquals(5, spec.train().seed());
        assertEquals("adder", spec.model());
        assertEquals(RunSpec.ADDITION_TOKENIZER, spec.tokenizer());
        assertEquals(spec, RunSpec.fromJson(spec.toJson()), "JSON round trip");
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void theCheckpointHoldsTheSpecAndResumingWithItAloneGivesTheUninterruptedBits() throws IOException {
        Path whole = tmp.resolve("whole");
        Path first = tmp.resolve("first");
        ok(with("--out", whole.toString()));
        ok(with("--out", first.toString(), "--stop-after", "3"));
        Map<?, ?> sidecar = (Map<?, ?>) Json.parse(Files.readString(first.resolve("checkpoint/checkpoint.json")));
        Map<?, ?> run = (Map<?, ?>) sidecar.get("run");
        assertEquals("addition", run.get("task"));
        assertEquals(5L, ((Map<?, ?>) run.get("train")).get("seed"));
        RunSpec saved = RunSpec.fromCheckpoint(Checkpoint.load(first.resolve("checkpoint")));
        assertEquals(RunSpec.fromJson(ok(with("--print-spec", "--out", first.toString())).out()), saved);

        CliRun resumed = ok("train", "--resume", first.toString(), "--progress", "plain");
        assertTrue(resumed.out().contains("resuming at step 3"), resumed.out());
        assertTrue(resumed.out().contains("step 8/8"), resumed.out());
        assertArrayEquals(file(whole, "model-"), file(first, "model-"), "weights");
        assertArrayEquals(file(whole, "optimizer-"), file(first, "optimizer-"), "optimizer state");
        List<String> lines = Files.readAllLines(first.resolve("metrics.jsonl"));
        assertEquals(8, lines.size(), "each step logged once");
    }

    @Test
    void resumingWithOptionsOfOtherDataIsRefused() {
        Path first = tmp.resolve("first");
        ok(with("--out", first.toString(), "--stop-after", "2"));
        CliRun r = CliRun.of(with("--digits", "2", "--resume", first.toString()));
        assertEquals(2, r.code(), r.out());
        assertTrue(r.err().contains("the checkpoint's run has ") && r.err().contains("cannot change on resume"),
                r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
