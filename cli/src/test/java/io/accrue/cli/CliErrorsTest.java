package io.accrue.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input: one line on stderr naming the problem, exit code 2, nothing written to --out. */
class CliErrorsTest {
    @TempDir
    Path tmp;

    private CliRun bad(String expected, String... args) {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.code(), "exit code; stderr: " + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("accrue: "), err);
        assertTrue(err.contains(expected), "'" + expected + "' in: " + err);
        return r;
    }

    private String out() {
        return tmp.resolve("out").toString();
    }

    private void nothingWritten() {
        assertFalse(Files.exists(tmp.resolve("out")), "--out must not be created");
    }

    @Test
    void maxLrCapsTheScaledRateAndNeedsScaleLr() {
        String scaled = "train --scale-lr 16 --lr 1e-3 -n 64 --print-spec";
        assertTrue(CliRun.of((scaled).split(" ")).out().contains("\"lr\": 0.004"), "uncapped: 1e-3 · 64/16");
        CliRun capped = CliRun.of((scaled + " --max-lr 2e-3").split(" "));
        assertEquals(0, capped.code(), capped.err());
        assertTrue(capped.out().contains("\"lr\": 0.002"), capped.out());
        bad("--max-lr caps the rate of --scale-lr; give --scale-lr BASE_BATCH too", "train", "--max-lr", "1e-3",
                "--out", out());
        bad("--max-lr must be a positive number, got -1.0", "train", "--scale-lr", "16", "--max-lr", "-1", "--out",
                out());
        nothingWritten();
    }

    @Test
    void missingDataFile() {
        bad("no such file", "train", "--data", tmp.resolve("nope.txt").toString(), "--out", out());
        nothingWritten();
    }

    @Test
    void emptyDataFile() throws IOException {
        Path f = Files.createFile(tmp.resolve("empty.txt"));
        bad("is empty", "train", "--data", f.toString(), "--out", out());
        nothingWritten();
    }

    @Test
    void dataFileIsADirectory() {
        bad("is a directory", "train", "--data", tmp.toString(), "--out", out());
        nothingWritten();
    }

    @Test
    void unreadableDataFile() throws IOException {
        Path f = Files.writeString(tmp.resolve("secret.txt"), "hello world");
        assertTrue(f.toFile().setReadable(false));
        if (Files.isReadable(f)) {
            // running as root: permissions do not apply; still check that a readable file is accepted up to --out
            return;
        }
        bad("permission denied", "train", "--data", f.toString(), "--out", out());
        nothingWritten();
    }

    @Test
    void unknownModel() {
        bad("unknown model 'huge'", "train", "--model", "huge", "--out", out());
        nothingWritten();
    }

    @Test
    void malformedNumber() {
        bad("'--lr': 'fast' is not a double", "train", "--lr", "fast", "--out", out());
        bad("'--micro-batch': '8x' is not an int", "train", "--micro-batch", "8x", "--out", out());
        nothingWritten();
    }

    @Test
    void unknownOption() {
        bad("Unknown options: '--learning-rate'", "train", "--learning-rate", "1", "--out", out());
    }

    @Test
    void accumDisagreesWithEffectiveBatch() {
        bad("--accum 4 × --micro-batch 8 = 32 disagrees with --effective-batch 64", "train", "--accum", "4",
                "--effective-batch", "64", "--out", out());
        nothingWritten();
    }

    @Test
    void outIsAFile() throws IOException {
        Path f = Files.writeString(tmp.resolve("out"), "x");
        bad("is a file", "train", "--steps", "2", "--out", f.toString());
        assertEquals("x", Files.readString(f));
    }

    @Test
    void trainConfigRejection() {
        bad("effectiveBatch 60 is not divisible by microBatch 8", "train", "--effective-batch", "60", "--out",
                out());
        bad("clipNorm must be positive", "train", "--clip", "-1", "--out", out());
        nothingWritten();
    }

    @Test
    void concurrentIsACountOrAuto() {
        bad("--concurrent: 'lots' is neither a count nor auto; use e.g. 2 or auto", "train", "--concurrent", "lots",
                "--out", out());
        bad("--concurrent must be a positive integer, got 0", "train", "--concurrent", "0", "--out", out());
        bad("concurrentMicroBatches must be in [1, threads = 2], got 3", "train", "--concurrent", "3", "--threads",
                "2", "--out", out());
        nothingWritten();
        CliRun auto = CliRun.of("train", "--concurrent", "auto", "--threads", "2", "--print-spec");
        assertEquals(0, auto.code(), auto.err());
        assertTrue(auto.out().contains("\"concurrent_micro_batches\": 1"), "the adder's kernels are too small for "
                + "lanes to pay; the spec holds the count chosen: " + auto.out());
    }

    @Test
    void stepsAndEpochs() {
        bad("exclude each other", "train", "--steps", "5", "--epochs", "1", "--out", out());
        nothingWritten();
    }

    @Test
    void unknownSchedule() {
        bad("--schedule: unknown value 'step'", "train", "--schedule", "step", "--out", out());
    }

    @Test
    void missingCheckpoint() {
        bad("no such checkpoint directory", "train", "--resume", tmp.resolve("none").toString(), "--out", out());
        nothingWritten();
    }

    @Test
    void helpListsDefaults() {
        CliRun r = CliRun.of("train", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--micro-batch=B"), r.out());
        assertTrue(r.out().contains("Default: 8"), r.out());
        assertTrue(r.out().contains("--effective-batch"), r.out());
    }

    @Test
    void trainHelpGroupsItsOptionsByThemeAndListsEveryChoice() {
        String help = CliRun.of("train", "--help").out();
        assertTrue(help.startsWith("Usage: accrue train [OPTIONS]"), help);
        List<String> headings = new java.util.ArrayList<>(TrainCommand.THEMES.keySet());
        headings.add("Other");
        int previous = 0;
        for (int i = 0; i < headings.size(); i++) {
            int heading = help.indexOf("\n" + headings.get(i) + ":\n");
            assertTrue(heading > previous, headings.get(i) + " after the theme before it: " + help);
            int next = i + 1 < headings.size() ? help.indexOf("\n" + headings.get(i + 1) + ":\n") : help.length();
            for (String option : TrainCommand.THEMES.getOrDefault(headings.get(i), List.of("--help", "--version"))) {
                int o = help.indexOf(" " + option, heading);
                assertTrue(o > heading && o < next, option + " under " + headings.get(i));
            }
            previous = heading;
        }
        for (String choices : List.of("addition, text (a byte-level GPT on --data) or", "bytes (V 256) or gpt2",
                "adder (2 layers, 4 heads, width 128),", "group (exact under accumulation)", "constant, cosine or linear",
                "adamw or sgd", "plain: a line", "bar: a live", "auto: the bar")) {
            assertTrue(help.replaceAll("\\s+", " ").contains(choices), choices);
        }
    }
}
