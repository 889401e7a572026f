package io.accrue.cli;

import io.accrue.train.Checkpoint;
import io.accrue.train.Json;
import io.accrue.train.TrainerState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real {@code accrue train} processes stopped the hard way and the polite way. Killed with SIGKILL at 22 moments
 * spread over a run — between micro-batches, inside a step, inside a checkpoint write — and resumed each time, the
 * run ends, after {@code --resume DIR} alone, with model and optimizer files byte-identical to an uninterrupted
 * run's. SIGTERM and SIGINT stop after the current micro-batch, write a checkpoint there, print where they stopped
 * and how to resume, and exit 143 and 130; the resumed run ends with the same bytes; a second SIGINT stops at once.
 */
class CliKillTest {
    private static final Pattern RESUME_LINE = Pattern.compile(
            "stopped at step (\\d+), micro-batch (\\d+) of (\\d+); resume with: accrue train --resume (\\S+)");

    @TempDir
    Path tmp;

    /** 64 problems, B=4 × K=4, dropout on: windows cross epoch boundaries and masks are keyed by the epoch. */
    private static List<String> args(Path out, int steps, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--train-size", "64", "--eval-size", "0", "-b", "4", "-n",
                "16", "--steps", Integer.toString(steps), "--warmup", "2", "--dropout", "0.1", "--threads", "1",
                "--progress", "plain", "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    /**
     * {@code accrue train args} as a child JVM, its output in {@code log}; SIGINT reset to its default first (a shell
     * that starts a job in the background makes it ignore SIGINT, and the JVM keeps an ignored signal ignored). The
     * child runs without the Vector API, on the scalar kernels and C1 only: it reaches its first micro-batch in under
     * half the time, and since every vector kernel gives its scalar oracle's bits, the runs it continues and the
     * in-process ones agree bit for bit all the same.
     */
    private Process start(List<String> args, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT",
                ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString()),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx256m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** The newest checkpoint's position (step, examples of the open window), or null while there is none. */
    private static long[] position(Path run) {
        try {
            Map<?, ?> j = (Map<?, ?>) Json.parse(Files.readString(run.resolve("checkpoint").resolve(Checkpoint.SIDECAR)));
            Object w = j.get("window_examples");
            return new long[] {(Long) j.get("step"), w == null ? 0 : (Long) w};
        } catch (IOException | RuntimeException e) {
            return null; // none yet, or being renamed
        }
    }

    private static boolean after(long[] p, long[] than) {
        return p != null && (than == null || p[0] > than[0] || p[0] == than[0] && p[1] > than[1]);
    }

    private static boolean writing(Path run) {
        try (Stream<Path> s = Files.list(run.resolve("checkpoint"))) {
            return s.anyMatch(f -> f.getFileName().toString().endsWith(".tmp"));
        } catch (IOException e) {
            return false;
        }
    }

    private static void waitFor(Process child, Path log, String what, java.util.function.BooleanSupplier until)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!until.getAsBoolean()) {
            if (!child.isAlive()) {
                fail("the run ended (exit " + child.exitValue() + ") before " + what + ":\n" + Files.readString(log));
            }
            if (System.nanoTime() > deadline) {
                fail("not " + what + " within 60 s:\n" + Files.readString(log));
            }
            Thread.sleep(1);
        }
    }

    private static void kill(Process child) throws InterruptedException {
        child.destroyForcibly();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child did not die");
    }

    @Test
    void sigkilledAt22MomentsAndResumedEachTimeEndsWithTheUninterruptedBytes() throws Exception {
        int steps = 24;
        Path whole = tmp.resolve("whole");
        CliRun uninterrupted = CliRun.of(args(whole, steps).toArray(String[]::new));
        assertEquals(0, uninterrupted.code(), uninterrupted.err());

        Path run = tmp.resolve("killed");
        java.util.Random random = new java.util.Random(23);
        long[] at = null;
        List<String> moments = new ArrayList<>();
        List<TrainerState> states = new ArrayList<>();
        int kills = 0;
        for (int i = 0; kills < 22; i++) {
            int kind = i % 3;
            // a checkpoint after (nearly) every micro-batch, inside windows too; the hooks place the kill
            String[] hooks = switch (kind) {
                case 0 -> new String[] {"--checkpoint-minutes", "0.0001", "--micro-batch-delay", "25"};
                case 1 -> new String[] {"--checkpoint-minutes", "0.0001"};
                default -> new String[] {"--checkpoint-minutes", "0.0001", "--checkpoint-delay", "30"};
            };
            List<String> a = at == null ? args(run, steps, hooks) : new ArrayList<>(List.of("train", "--resume",
                    run.toString(), "--progress", "plain"));
            if (at != null) {
                a.addAll(List.of(hooks));
            }
            Path log = tmp.resolve("child-" + i + ".log");
            Process child = start(a, log);
            long[] from = at;
            try {
                waitFor(child, log, "a checkpoint past " + (from == null ? "the start" : from[0] + "+" + from[1]),
                        () -> after(position(run), from));
                switch (kind) {
                    case 0 -> Thread.sleep(random.nextInt(25)); // most likely between two micro-batches
                    case 1 -> Thread.sleep(random.nextInt(15)); // computing a micro-batch or a step boundary
                    default -> waitFor(child, log, "inside a checkpoint write", () -> writing(run));
                }
            } finally {
                kill(child);
            }
            assertEquals(137, child.exitValue(), "killed by SIGKILL (128 + 9)");
            kills++;
            Checkpoint cp = Checkpoint.load(run.resolve("checkpoint")); // whole: every file's size and SHA-256
            TrainerState s = cp.state();
            moments.add(List.of("between micro-batches", "inside a step", "inside a checkpoint write").get(kind)
                    + " → resumes at " + s.step() + "+" + s.windowExamples() + (cp.notes().isEmpty() ? ""
                    : " (" + cp.notes() + ")"));
            assertTrue(from == null || after(new long[] {s.step(), s.windowExamples()}, from)
                    || s.step() == from[0] && s.windowExamples() == from[1], "progress kept: " + moments);
            at = new long[] {s.step(), s.windowExamples()};
            states.add(s);
            assertTrue(s.step() < steps, "the run ended before 22 kills: " + moments);
        }
        assertTrue(states.stream().filter(TrainerState::windowOpen).count() >= 5,
                "kills left checkpoints inside windows: " + moments);

        CliRun resumed = CliRun.of("train", "--resume", run.toString());
        assertEquals(0, resumed.code(), resumed.err() + "\n" + moments);
        CliRun.assertSameBytes(whole, run, "uninterrupted vs killed 22 times: " + moments);
        List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(steps, metrics.size(), "each step logged once");
        for (int i = 0; i < steps; i++) {
            assertTrue(metrics.get(i).startsWith("{\"step\":" + (i + 1) + ","), metrics.get(i));
        }
        try (Stream<Path> s = Files.list(run.resolve("checkpoint"))) {
            assertFalse(s.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "temporary files cleaned up");
        }
    }

    /** SIGTERM (143) or SIGINT (130) stops after the micro-batch; the resume line names where; resuming gives the bytes. */
    private void signalStopsAfterTheMicroBatch(String signal, int code) throws Exception {
        int steps = 10;
        List<String> one = List.of("-b", "1", "--checkpoint-minutes", "0"); // K = 16: most likely inside a window
        Path whole = tmp.resolve("whole-" + signal);
        List<String> wholeArgs = args(whole, steps, one.toArray(String[]::new));
        assertEquals(0, CliRun.of(fixBatch(wholeArgs).toArray(String[]::new)).code());

        Path run = tmp.resolve(signal);
        List<String> a = fixBatch(args(run, steps, one.toArray(String[]::new)));
        a.addAll(List.of("--micro-batch-delay", "20"));
        Path log = tmp.resolve(signal + ".log");
        Process child = start(a, log);
        try {
            waitFor(child, log, "3 steps", () -> {
                try {
                    return Files.exists(run.resolve("metrics.jsonl"))
                            && Files.readAllLines(run.resolve("metrics.jsonl")).size() >= 3;
                } catch (IOException e) {
                    return false;
                }
            });
            new ProcessBuilder("kill", "-" + signal, Long.toString(child.pid())).start().waitFor();
            assertTrue(child.waitFor(60, TimeUnit.SECONDS), "stopped");
        } finally {
            child.destroyForcibly();
        }
        String out = Files.readString(log);
        assertEquals(code, child.exitValue(), out);
        assertTrue(out.contains("accrue: SIG" + signal + ": stopping after the current micro-batch"), out);
        Matcher m = RESUME_LINE.matcher(out);
        assertTrue(m.find(), out);
        assertEquals(run.toString(), m.group(4));
        assertEquals("16", m.group(3), out);
        TrainerState s = Checkpoint.load(run.resolve("checkpoint")).state();
        assertEquals(Long.parseLong(m.group(1)), s.step(), out);
        assertEquals(Integer.parseInt(m.group(2)), s.windowExamples(), "micro-batches of 1 done: " + out);
        assertTrue(s.step() >= 3 && s.step() < steps, out);

        CliRun resumed = CliRun.of("train", "--resume", run.toString());
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming at step " + s.step()), resumed.out());
        CliRun.assertSameBytes(whole, run, signal + " at " + s.step() + "+" + s.windowExamples());
    }

    /** {@code -b 4} of {@link #args} replaced by the {@code -b 1} given after it (picocli takes an option once). */
    private static List<String> fixBatch(List<String> a) {
        int i = a.indexOf("-b");
        List<String> out = new ArrayList<>(a);
        out.remove(i);
        out.remove(i);
        return out;
    }

    @Test
    void sigtermStopsAfterTheMicroBatchWithACheckpointAndExits143() throws Exception {
        signalStopsAfterTheMicroBatch("TERM", 143);
    }

    @Test
    void sigintStopsAfterTheMicroBatchWithACheckpointAndExits130() throws Exception {
        signalStopsAfterTheMicroBatch("INT", 130);
    }

    @Test
    void aSecondSigintStopsAtOnce() throws Exception {
        Path run = tmp.resolve("twice");
        List<String> a = args(run, 50, "--checkpoint-minutes", "0", "--checkpoint-delay", "20000");
        Path log = tmp.resolve("twice.log");
        Process child = start(a, log);
        try {
            waitFor(child, log, "a step", () -> Files.exists(run.resolve("metrics.jsonl")));
            new ProcessBuilder("kill", "-INT", Long.toString(child.pid())).start().waitFor();
            long first = System.nanoTime();
            waitFor(child, log, "writing the checkpoint", () -> writing(run)); // then sleeping 20 s in it
            // closer to the first, the JVM takes it for the same signal delivered twice (Signals)
            TimeUnit.NANOSECONDS.sleep(Math.max(0, 2 * Signals.SAME_DELIVERY_NANOS - (System.nanoTime() - first)));
            long t0 = System.nanoTime();
            new ProcessBuilder("kill", "-INT", Long.toString(child.pid())).start().waitFor();
            assertTrue(child.waitFor(10, TimeUnit.SECONDS), "stopped at once");
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        } finally {
            child.destroyForcibly();
        }
        String out = Files.readString(log);
        assertEquals(130, child.exitValue(), out);
        assertTrue(out.contains("accrue: SIGINT again: stopped at once"), out);
        assertFalse(out.contains("resume with:"), out);
        assertFalse(Checkpoint.exists(run.resolve("checkpoint")), "the interrupted write left no sidecar");
    }
}
