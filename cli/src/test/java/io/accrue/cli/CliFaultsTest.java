package io.accrue.cli;

import io.accrue.train.Checkpoint;
import io.accrue.train.Json;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Faults of the machine, created for real: a full disk (a small tmpfs) while a checkpoint, {@code metrics.jsonl} or
 * {@code accrue prepare}'s shards are written; an output directory on a read-only file system or under a file; the
 * data truncated or replaced under a running process; a checkpoint of a newer Accrue. Each ends in one line naming
 * what happened, where and what to do, exit code 4, no partial file in the run directory, and the newest complete
 * checkpoint intact — a resume after the fault is fixed ends with the uninterrupted run's bytes.
 */
class CliFaultsTest {
    @TempDir
    Path tmp;
    private Path text;
    private Path model;

    @BeforeEach
    void data() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; sb.length() < 30_000; i++) {
            sb.append("Chapter ").append(i).append(". It was the best of times, it was the worst of times; the ")
                    .append(i % 3 == 0 ? "café" : "inn").append(" stood at number ").append(i * 37 % 1000)
                    .append(".\n\n");
        }
        text = Files.writeString(tmp.resolve("book.txt"), sb);
        model = Files.writeString(tmp.resolve("model.json"), "{\"layers\":1,\"heads\":2,\"width\":32}");
    }

    /** A byte-level GPT on the text; {@code extra} holds option/value pairs that replace or add to these. */
    private List<String> train(Path out, String... extra) {
        return CliRun.withOptions(List.of("train", "--data", text.toString(), "--model", model.toString(),
                "--context", "32", "-b", "2", "-n", "4", "--steps", "8", "--warmup", "1", "--threads", "1",
                "--checkpoint-minutes", "0", "--progress", "plain", "--out", out.toString()), extra);
    }

    private static CliRun run(List<String> args) {
        return CliRun.of(args.toArray(String[]::new));
    }

    /** The uninterrupted run of {@link #train}, on an ordinary disk. */
    private Path uninterrupted(String... extra) {
        Path whole = tmp.resolve("whole");
        CliRun r = run(train(whole, extra));
        assertEquals(0, r.code(), r.err());
        return whole;
    }

    /** One line on stderr, exit code 4, holding each of {@code expected}. */
    private static void fault(CliRun r, String... expected) {
        String err = r.err().strip();
        assertEquals(ErrorHandlers.ENVIRONMENT, r.code(), "exit code; stderr: " + err + "\nstdout: " + r.out());
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("accrue: ") && !err.contains("internal error"), err);
        for (String e : expected) {
            assertTrue(err.contains(e), "'" + e + "' in: " + err);
        }
    }

    /** The file names in {@code dir}, sorted; fails on a temporary file. */
    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(f -> f.getFileName().toString()).sorted().toList();
            assertTrue(names.stream().noneMatch(n -> n.endsWith(".tmp")), "no temporary file left: " + names);
            return names;
        }
    }

    /**
     * The steps of the checkpoints a run stopped by a fault keeps, by its message: the newest it names (the run
     * checkpoints every 2 steps, and which step a fault made during a run meets depends on timing), and the one before.
     */
    private static long[] newest(CliRun r) {
        var m = java.util.regex.Pattern.compile("the newest complete checkpoint, at step (\\d+),").matcher(r.err());
        assertTrue(m.find(), r.err());
        long step = Long.parseLong(m.group(1));
        return step == 2 ? new long[] {2} : new long[] {step - 2, step};
    }

    /** The run's (GPT) checkpoint directory holds the checkpoints at {@code steps} and nothing else. */
    private static void checkpointsAt(Path run, long... steps) throws IOException {
        Path dir = run.resolve("checkpoint");
        // a GPT checkpoint is also a Hugging Face directory: config.json and model.safetensors (the newest weights)
        List<String> expected = new java.util.ArrayList<>(List.of(Checkpoint.SIDECAR, "config.json",
                "model.safetensors"));
        if (steps.length == 2) {
            expected.add(Checkpoint.PREVIOUS);
        }
        for (long s : steps) {
            expected.add(String.format("model-%08d.safetensors", s));
            expected.add(String.format("optimizer-%08d.safetensors", s));
        }
        assertEquals(expected.stream().sorted().toList(), names(dir));
        assertEquals(steps[steps.length - 1], Checkpoint.load(dir).state().step(), "the newest is whole");
    }

    /** The lines of {@code metrics.jsonl}: each whole, steps 1, 2, … in order. */
    private static int metricsLines(Path run) throws IOException {
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        for (int i = 0; i < lines.size(); i++) {
            assertEquals((long) i + 1, ((Map<?, ?>) Json.parse(lines.get(i))).get("step"), lines.get(i));
        }
        return lines.size();
    }

    private static void waitFor(String what, BooleanSupplier until, CompletableFuture<?> running) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!until.getAsBoolean()) {
            if (running.isDone()) {
                fail("the run ended before " + what + ": " + running.get());
            }
            if (System.nanoTime() > deadline) {
                fail("not " + what + " within 120 s");
            }
            Thread.sleep(2);
        }
    }

    private static boolean hasLines(Path file, int n) {
        try {
            return Files.exists(file) && Files.readAllLines(file).size() >= n;
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    /**
     * The case: checkpoints every 2 steps on a disk with room for two of them. The run warns once the next
     * checkpoint will not fit, stops at it with how much it needs, keeps the newest whole, and resumed after space is
     * freed ends with the uninterrupted run's bytes.
     */
    @Test
    void aFullDiskStopsAtTheCheckpointThatDoesNotFitAndTheRunResumesBitExactly() throws Exception {
        Path whole = uninterrupted("--checkpoint-every", "2");
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("disk"), "size=640k")) {
            Path run = disk.dir().resolve("run");
            CliRun r = run(train(run, "--checkpoint-every", "2"));
            fault(r, "no space left for the checkpoint at step 6 in " + run.resolve("checkpoint") + ": it needs ",
                    " free; free at least ", "the newest complete checkpoint, at step 4, is in ",
                    "resume with accrue train --resume " + run);
            assertTrue(r.out().contains("warning: " + run + " has ") && r.out().contains("the next checkpoint needs"),
                    "warned before: " + r.out());
            checkpointsAt(run, 2, 4);
            assertEquals(List.of("checkpoint", "metrics.jsonl"), names(run));
            assertEquals(6, metricsLines(run));

            disk.resize("8m");
            CliRun resumed = run(List.of("train", "--resume", run.toString(), "--progress", "plain"));
            assertEquals(0, resumed.code(), resumed.err());
            CliRun.assertSameBytes(whole, run, "uninterrupted vs stopped by a full disk and resumed");
            assertEquals(8, metricsLines(run));
        }
    }

    /**
     * The disk fills up while a checkpoint is being written (after the space check): the files this save wrote go,
     * the checkpoint before stays whole, and the resume ends with the uninterrupted bytes.
     */
    @Test
    void aDiskThatFillsDuringACheckpointWriteLosesOnlyThatCheckpoint() throws Exception {
        Path whole = uninterrupted("--checkpoint-every", "2");
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("disk"), "size=4m")) {
            Path run = disk.dir().resolve("run");
            Path modelAt4 = run.resolve("checkpoint").resolve("model-00000004.safetensors.tmp");
            CompletableFuture<CliRun> running = CompletableFuture.supplyAsync(() -> run(train(run,
                    "--checkpoint-every", "2", "--checkpoint-delay", "300")));
            waitFor("the checkpoint at step 4 being written", () -> Files.exists(modelAt4), running);
            Path filler = disk.fill(); // the optimizer file, next, finds no room
            CliRun r = running.get(120, TimeUnit.SECONDS);
            fault(r, "cannot write the checkpoint in " + run.resolve("checkpoint") + ": no space left on device",
                    "the newest complete checkpoint, at step 2, is in ", "--resume " + run);
            checkpointsAt(run, 2);
            assertEquals(4, metricsLines(run));

            Files.delete(filler);
            CliRun resumed = run(List.of("train", "--resume", run.toString(), "--progress", "plain"));
            assertEquals(0, resumed.code(), resumed.err());
            CliRun.assertSameBytes(whole, run, "uninterrupted vs a checkpoint lost to a full disk, resumed");
        }
    }

    /**
     * The first report, without root: a real process under a file-size limit (RLIMIT_FSIZE, which the JVM
     * meets as EFBIG, not as a SIGXFSZ death) writes the weights of its first checkpoint but not the optimizer state:
     * one line, exit 4, and neither file left behind.
     */
    @Test
    void aFileSizeLimitInsideACheckpointLeavesNoPartOfIt() throws Exception {
        Path run = tmp.resolve("run");
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", "-c", "ulimit -f 150 && exec \"$@\"", "java",
                ProcessHandle.current().info().command().orElseThrow(), "--add-modules", "jdk.incubator.vector",
                "-XX:TieredStopAtLevel=1", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(train(run, "--steps", "4", "--checkpoint-every", "2"));
        Path log = tmp.resolve("fsize.log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).redirectOutput(tmp.resolve("out.log").toFile())
                .start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "ended");
        String err = Files.readString(log).lines().filter(l -> !l.startsWith("WARNING: Using incubator"))
                .collect(java.util.stream.Collectors.joining("\n"));
        fault(new CliRun(p.exitValue(), Files.readString(tmp.resolve("out.log")), err), "cannot write the checkpoint "
                + "in " + run.resolve("checkpoint") + ": file too large (the file-size limit: ulimit -f); raise the "
                + "limit; no checkpoint was written yet");
        assertEquals(List.of(), names(run.resolve("checkpoint")));
        assertEquals(2, metricsLines(run));
    }

    /** A line of {@code metrics.jsonl} that does not fit is cut off again: the file ends with the line before. */
    @Test
    void aMetricsLineThatDoesNotFitIsCutBack() throws Exception {
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("disk"), "size=1m")) {
            Path run = disk.dir().resolve("run");
            CompletableFuture<CliRun> running = CompletableFuture.supplyAsync(() -> run(train(run, "--steps", "60",
                    "--step-delay", "20")));
            waitFor("two steps logged", () -> hasLines(run.resolve("metrics.jsonl"), 2), running);
            disk.fill(); // the line that needs a new page of the file fails part-way
            CliRun r = running.get(120, TimeUnit.SECONDS);
            fault(r, "cannot write " + run.resolve("metrics.jsonl") + ": no space left on device; free space",
                    "no checkpoint was written yet");
            int lines = metricsLines(run);
            assertTrue(lines >= 2 && lines < 60, lines + " whole lines");
            assertTrue(Files.readString(run.resolve("metrics.jsonl")).endsWith("}\n"), "ends with a whole line");
        }
    }

    /** {@code accrue prepare} on a full disk: one line, exit 4, and the directory it created is gone again. */
    @Test
    void prepareOnAFullDiskLeavesNothing() throws Exception {
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("disk"), "size=32k")) {
            Path out = disk.dir().resolve("prepared");
            CliRun r = CliRun.of("prepare", "--data", text.toString(), "--tokenizer", "bytes", "--out", out.toString(),
                    "--progress", "plain");
            fault(r, "cannot write " + out.resolve("train.bin") + ": no space left on device; free space");
            assertEquals(List.of(), names(disk.dir()));
        }
    }

    /** Not writable: a read-only file system, a path under a file; refused before anything is written. */
    @Test
    void anOutputDirectoryThatCannotBeCreatedOrWritten() throws Exception {
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("ro"), "ro,size=64k")) {
            Path out = disk.dir().resolve("run");
            fault(run(train(out)), "cannot create --out " + out + ": " + disk.dir() + " is not writable "
                    + "(permissions or a read-only file system); make it writable or choose another --out");
            fault(run(train(disk.dir())), "cannot write --out " + disk.dir() + ": " + disk.dir() + " is not writable");
            fault(CliRun.of("prepare", "--data", text.toString(), "--out", out.toString()), "cannot create " + out
                    + ": read-only file system; make it writable or choose another directory");
            assertEquals(List.of(), names(disk.dir()));
        }
        Path file = Files.writeString(tmp.resolve("file"), "x");
        Path under = file.resolve("run");
        fault(run(train(under)), "cannot create --out " + under + ": " + file + " is a file; choose a directory "
                + "elsewhere");
        fault(CliRun.of("prepare", "--data", text.toString(), "--out", under.toString()), "cannot create " + under
                + ": not a directory; a part of that path is a file");
        assertEquals("x", Files.readString(file));
    }

    /**
     * The text file replaced (renamed over) while the run reads it: the run stops before reading the new one, the
     * checkpoint before is whole, and with the original back the resume ends with the uninterrupted bytes.
     */
    @Test
    void dataReplacedDuringTheRunStopsItAndTheResumeIsBitExact() throws Exception {
        Path whole = uninterrupted("--checkpoint-every", "2");
        byte[] original = Files.readAllBytes(text);
        Path run = tmp.resolve("run");
        CompletableFuture<CliRun> running = CompletableFuture.supplyAsync(() -> run(train(run, "--checkpoint-every",
                "2", "--step-delay", "300")));
        waitFor("three steps", () -> hasLines(run.resolve("metrics.jsonl"), 3), running);
        Path other = Files.writeString(tmp.resolve("other.txt"), "another text altogether ".repeat(2000));
        Files.move(other, text, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        CliRun r = running.get(120, TimeUnit.SECONDS);
        fault(r, text + " was replaced by another file while the run read it; put the original back",
                "the newest complete checkpoint, at step ", "--resume " + run);
        checkpointsAt(run, newest(r));

        Files.write(text, original);
        CliRun resumed = run(List.of("train", "--resume", run.toString(), "--progress", "plain"));
        assertEquals(0, resumed.code(), resumed.err());
        CliRun.assertSameBytes(whole, run, "uninterrupted vs stopped by replaced data, resumed");
    }

    /** A checkpoint of a newer Accrue is refused (exit 4); one of an older format version is migrated. */
    @Test
    void checkpointsOfOtherVersionsAreRefusedOrMigrated() throws Exception {
        Path whole = uninterrupted("--checkpoint-every", "2", "--steps", "4");
        Path run = tmp.resolve("run");
        CliRun first = run(train(run, "--checkpoint-every", "2", "--steps", "4", "--stop-after", "2"));
        assertEquals(0, first.code(), first.err());
        Path sidecar = run.resolve("checkpoint").resolve(Checkpoint.SIDECAR);
        String saved = Files.readString(sidecar);
        long version = (Long) ((Map<?, ?>) Json.parse(saved)).get("version");
        String field = "\"version\": " + version + ",";
        assertTrue(version >= 2 && saved.contains(field), saved);

        Files.writeString(sidecar, saved.replace(field, "\"version\": " + (version + 1) + ","));
        fault(run(List.of("train", "--resume", run.toString())), sidecar + ": written by a newer Accrue (checkpoint "
                + "format version " + (version + 1) + "; this one reads versions 1 to " + version + "), refused; "
                + "resume it with the Accrue that wrote it");

        Files.writeString(sidecar, saved.replace(field, "\"version\": 1,"));
        CliRun migrated = run(List.of("train", "--resume", run.toString(), "--progress", "plain"));
        assertEquals(0, migrated.code(), migrated.err());
        assertTrue(migrated.out().contains("written by an older Accrue (checkpoint format version 1), migrated: read "
                + "as version " + version), migrated.out());
        assertTrue(Files.readString(sidecar).contains(field), "saved again as version " + version);
        CliRun.assertSameBytes(whole, run, "uninterrupted vs resumed from a version-1 checkpoint");
    }

    /** Every command's help lists the exit codes, 4 among them. */
    @Test
    void helpListsTheExitCodes() {
        for (String command : List.of("train", "prepare", "sample", "plan", "bench")) {
            CliRun help = CliRun.of(command, "--help");
            assertEquals(0, help.code(), help.err());
            assertTrue(help.out().contains("Exit codes:") && help.out().contains("  4     a fault of the machine: no "
                    + "space left") && help.out().contains("  2     bad input"), command + ": " + help.out());
        }
    }

    /** Truncation of a mapped file under a running process: the check before each micro-batch sees it. */
    @Test
    void dataTruncatedUnderARunningProcessStopsIt() throws Exception {
        Path run = tmp.resolve("run");
        CompletableFuture<CliRun> running = CompletableFuture.supplyAsync(() -> run(train(run, "--checkpoint-every",
                "2", "--step-delay", "300")));
        waitFor("three steps", () -> hasLines(run.resolve("metrics.jsonl"), 3), running);
        long size = Files.size(text);
        try (FileChannel ch = FileChannel.open(text, StandardOpenOption.WRITE)) {
            ch.truncate(1000);
        }
        CliRun r = running.get(120, TimeUnit.SECONDS);
        fault(r, String.format("%s was truncated from %,d to 1,000 bytes while the run read it", text, size),
                "the newest complete checkpoint, at step ");
        checkpointsAt(run, newest(r));
    }
}
