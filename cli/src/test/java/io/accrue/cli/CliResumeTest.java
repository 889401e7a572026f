package io.accrue.cli;

import io.accrue.run.RunSpec;
import io.accrue.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What may change on {@code --resume}: options that change nothing in the training (threads, concurrent
 * micro-batches, progress, output, checkpoint cadence, and B with K at the same effective batch) — the result is
 * the uninterrupted run's, byte for byte; any other is refused naming the field and both values. A damaged newest
 * checkpoint is reported and the previous one used.
 */
class CliResumeTest {
    @TempDir
    Path tmp;

    /** 64 problems, B=4 × K=4, 8 steps, dropout: every option below is given so that the defaults do not matter. */
    private static List<String> args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--train-size", "64", "--eval-size", "0", "-b", "4", "-n",
                "16", "--steps", "8", "--warmup", "2", "--dropout", "0.1", "--threads", "1", "--progress", "plain",
                "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    private static CliRun ok(List<String> args) {
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), "stderr: " + r.err() + "\nstdout: " + r.out());
        return r;
    }

    private static CliRun ok(String... args) {
        return ok(List.of(args));
    }

    @Test
    void optionsThatChangeNothingInTheTrainingMayChange() throws IOException {
        Path whole = tmp.resolve("whole");
        ok(args(whole));
        Path run = tmp.resolve("run");
        ok(args(run, "--stop-after", "3"));
        CliRun r = ok("train", "--resume", run.toString(), "--threads", "2", "--concurrent", "2", "--progress",
                "plain", "--checkpoint-every", "2", "--checkpoint-minutes", "5", "--stop-after", "6");
        assertTrue(r.out().contains("resuming at step 3"), r.out());
        RunSpec spec = RunSpec.fromCheckpoint(Checkpoint.load(run.resolve("checkpoint")));
        assertEquals(2, spec.train().threads());
        assertEquals(2, spec.checkpointEvery());
        assertEquals(5.0, spec.checkpointMinutes());
        // B and K at the same effective batch: 4 × 4 → 2 × 8 (law 3: the same bits for any cut of the window)
        r = ok("train", "--resume", run.toString(), "-b", "2", "--progress", "plain");
        assertTrue(r.out().contains("B=2 × K=8 = effective 16"), r.out());
        CliRun.assertSameBytes(whole, run, "resumed with other threads, concurrency, cadence, then B and K");
    }

    @Test
    void optionsThatWouldChangeTheTrainingAreRefusedNamingTheFieldAndBothValues() {
        Path run = tmp.resolve("run");
        ok(args(run, "--stop-after", "2"));
        refused(run, "train.lr = 0.001, these options give 0.002", "--lr", "0.002");
        refused(run, "train.seed = 1337, these options give 7", "--seed", "7");
        refused(run, "train.max_steps = 8, these options give 20", "--steps", "20");
        refused(run, "train.effective_batch = 16, these options give 8", "-k", "2");
        refused(run, "gpt.dropout = 0.1, these options give 0.2", "--dropout", "0.2");
        refused(run, "train.optimizer = adamw, these options give sgd", "--optimizer", "sgd");
        refused(run, "task = addition, these options give text", "--task", "text");
    }

    private static void refused(Path run, String expected, String... options) {
        List<String> a = new ArrayList<>(List.of("train", "--resume", run.toString()));
        a.addAll(List.of(options));
        CliRun r = CliRun.of(a.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(expected) && r.err().contains("cannot change on resume"), r.err());
    }

    @Test
    void aDamagedNewestCheckpointIsReportedAndThePreviousOneUsed() throws IOException {
        Path whole = tmp.resolve("whole");
        ok(args(whole));
        Path run = tmp.resolve("run");
        ok(args(run, "--checkpoint-every", "2", "--stop-after", "5"));
        Path newest = CliRun.newest(run, "optimizer_file");
        assertTrue(newest.getFileName().toString().startsWith("optimizer-00000005"), newest.toString());
        byte[] b = Files.readAllBytes(newest);
        b[b.length - 7] ^= 0x10;
        Files.write(newest, b);
        CliRun r = ok("train", "--resume", run.toString(), "--progress", "plain");
        assertTrue(r.out().contains("the newest checkpoint in " + run.resolve("checkpoint") + " is damaged ("
                + newest + ": corrupt: SHA-256 differs"), r.out());
        assertTrue(r.out().contains("using the previous one, at step 4") && r.out().contains("resuming at step 4"),
                r.out());
        CliRun.assertSameBytes(whole, run, "resumed from the previous checkpoint");
    }
}
