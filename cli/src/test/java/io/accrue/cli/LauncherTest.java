package io.accrue.cli;

import io.accrue.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The launcher ({@code scripts/launch.sh}) around a real training JVM: memory that runs out during the run — the
 * kernel's out-of-memory killer in a memory cgroup another process fills, native memory the JVM cannot get — is one
 * line with the plan's figure and where to resume, exit 3, nothing of the JVM's own crash report, nothing left in
 * the working or run directory, and the run resumes bit-exactly; signals sent to the launcher, or to its whole
 * process group, stop the run at a checkpoint as they do the JVM alone; a launcher killed takes its JVM with it.
 */
class LauncherTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    /** The addition task's training for 12 steps, a checkpoint every 2, each step {@code stepDelayMs} long at least. */
    private static List<String> train(Path out, long stepDelayMs) {
        return List.of("train", "--steps", "12", "--checkpoint-every", "2", "--threads", "1", "--progress", "plain",
                "--step-delay", Long.toString(stepDelayMs), "--out", out.toString());
    }

    /** A launcher process in its own session, run in {@code tmp/cwd} after the shell commands {@code setup}. */
    private Launched launch(String setup, List<String> jvmOptions, List<String> args) throws IOException {
        Path cwd = Files.createDirectories(tmp.resolve("cwd"));
        String script = setup + " . \"$ROOT/scripts/jdk.sh\" && . \"$ROOT/scripts/launch.sh\" && "
                + "launch 256m \"the memory plan of this run\" \"$@\"";
        List<String> cmd = new ArrayList<>(List.of("setsid", "bash", "-c", script, "launcher"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        pb.environment().put("ROOT", ROOT.toString());
        pb.environment().remove("ACCRUE_DEBUG");
        Path out = tmp.resolve("launcher.out");
        Path err = tmp.resolve("launcher.err");
        return new Launched(pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start(), out, err, cwd);
    }

    private record Launched(Process process, Path out, Path err, Path cwd) {
        /** The launcher's exit code, once it ends (within two minutes). */
        int exit() throws InterruptedException {
            assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the launcher ended");
            return process.exitValue();
        }

        String stdout() throws IOException {
            return Files.readString(out);
        }

        /** Standard error, which must be one line. */
        String line() throws IOException {
            String line = Files.readString(err).strip();
            assertFalse(line.contains("\n"), "one line: " + line);
            return line;
        }

        /** The JVM the launcher started. */
        ProcessHandle jvm() {
            return process.descendants().filter(p -> p.info().command().orElse("").endsWith("/java")).findFirst()
                    .orElseThrow(() -> new AssertionError("no JVM under the launcher"));
        }

        void waitFor(String what, BooleanSupplier until) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!until.getAsBoolean()) {
                if (!process.isAlive()) {
                    fail("the run ended before " + what + ": " + stdout() + Files.readString(err));
                }
                if (System.nanoTime() > deadline) {
                    fail("not " + what + " within 120 s");
                }
                Thread.sleep(5);
            }
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static void kill(String signal, String target) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, "--", target).start().waitFor(), "kill " + target);
    }

    /**
     * Another process takes the memory of the run's cgroup: the kernel's out-of-memory killer ends the JVM (made its
     * first choice with oom_score_adj, as the largest process usually is). One line with the plan and the resume,
     * exit 3; the newest checkpoint is whole, and the resume ends with the uninterrupted run's bytes.
     */
    @Test
    void theOutOfMemoryKillerIsOneLineAndTheRunResumesBitExactly() throws Exception {
        Path whole = tmp.resolve("whole");
        CliRun uninterrupted = CliRun.of(train(whole, 0).toArray(String[]::new));
        assertEquals(0, uninterrupted.code(), uninterrupted.err());
        Path run = tmp.resolve("run");
        long limit = 768L << 20;
        try (MemoryCgroup group = MemoryCgroup.create("accrue-test-" + ProcessHandle.current().pid(), limit)) {
            Launched l = launch(group.enter() + " && echo 1000 > /proc/self/oom_score_adj &&", List.of(),
                    train(run, 1000));
            l.waitFor("its first checkpoint", () -> Checkpoint.exists(run.resolve("checkpoint")));
            // the whole limit: more than the group has left, whatever the JVM's size; once the JVM is gone, the
            // killer may end this process too
            Process hog = new ProcessBuilder("bash", "-c", group.enter() + " && head -c " + limit + " /dev/zero | tail "
                    + ">/dev/null").start();
            assertTrue(hog.waitFor(60, TimeUnit.SECONDS), "the other process ended");
            assertEquals(ErrorHandlers.OUT_OF_MEMORY, l.exit(), l.stdout());
            String line = l.line();
            assertTrue(line.startsWith("accrue: the kernel's out-of-memory killer stopped the JVM (SIGKILL): memory "
                    + "ran short (the machine's, or its cgroup's limit) while this run needed a predicted peak of "),
                    line);
            assertTrue(line.endsWith("; the newest complete checkpoint is intact: resume with accrue train --resume "
                    + run), line);
            assertEquals(List.of(), names(l.cwd()), "nothing in the working directory");
        }
        assertTrue(names(run.resolve("checkpoint")).stream().noneMatch(n -> n.endsWith(".tmp")));
        CliRun resumed = CliRun.of("train", "--resume", run.toString(), "--step-delay", "0", "--progress", "plain");
        assertEquals(0, resumed.code(), resumed.err());
        CliRun.assertSameBytes(whole, run, "uninterrupted vs ended by the out-of-memory killer and resumed");
    }

    /**
     * Native memory that runs out under the JVM (here a malloc limit, -XX:MallocLimit, that its compilers meet):
     * HotSpot's fatal-error exit, which would print a block of '#' lines and write report files, is one line, exit 3.
     */
    @Test
    void nativeMemoryRunningOutIsOneLine() throws Exception {
        Path run = tmp.resolve("run");
        Launched l = launch("", List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:NativeMemoryTracking=summary",
                "-XX:MallocLimit=40m:oom", "-Xlog:nmt=off"), train(run, 0));
        assertEquals(ErrorHandlers.OUT_OF_MEMORY, l.exit(), l.stdout());
        String line = l.line();
        assertTrue(line.startsWith("accrue: the JVM stopped on a fatal error, most likely native memory running out: "
                + "the machine has less free memory than this run needs (a predicted peak of "), line);
        assertTrue(line.endsWith("; ACCRUE_DEBUG=1 keeps the JVM's own report"), line);
        assertTrue(l.stdout().lines().noneMatch(s -> s.startsWith("#")), l.stdout());
        assertEquals(List.of(), names(l.cwd()), "no crash report, replay file or core in the working directory");
    }

    /**
     * SIGTERM to the launcher alone, and to its whole process group (as {@code timeout} or a service manager sends
     * it, so that the JVM gets it twice): one stop at a checkpoint, exit 143, the resume line.
     */
    @Test
    void sigtermToTheLauncherOrItsGroupStopsAtACheckpoint() throws Exception {
        for (boolean group : new boolean[] {false, true}) {
            Path run = tmp.resolve("run-" + group);
            Launched l = launch("", List.of(), train(run, 400));
            l.waitFor("a step", () -> Files.exists(run.resolve("metrics.jsonl")));
            kill("TERM", (group ? "-" : "") + l.process().pid());
            assertEquals(143, l.exit(), l.stdout());
            assertEquals("accrue: SIGTERM: stopping after the current micro-batch to write a checkpoint (the signal "
                    + "again stops at once)", l.line(), group ? "to the group" : "to the launcher");
            assertTrue(l.stdout().contains("resume with: accrue train --resume " + run), l.stdout());
            assertTrue(Checkpoint.exists(run.resolve("checkpoint")));
        }
    }

    /** SIGKILL of the launcher (it can no longer pass signals on) stops its JVM at once; SIGKILL of the JVM is a line. */
    @Test
    void sigkillOfTheLauncherOrItsJvm() throws Exception {
        Launched l = launch("", List.of(), train(tmp.resolve("a"), 400));
        l.waitFor("a step", () -> Files.exists(tmp.resolve("a").resolve("metrics.jsonl")));
        ProcessHandle jvm = l.jvm();
        kill("KILL", Long.toString(l.process().pid()));
        assertTrue(jvm.onExit().completeOnTimeout(null, 10, TimeUnit.SECONDS).get() != null && !jvm.isAlive(),
                "the JVM stopped once its launcher was killed");

        Path run = tmp.resolve("b");
        l = launch("", List.of(), train(run, 400));
        l.waitFor("its first checkpoint", () -> Checkpoint.exists(run.resolve("checkpoint")));
        kill("KILL", Long.toString(l.jvm().pid()));
        assertEquals(137, l.exit(), l.stdout());
        String line = l.line();
        assertTrue(line.startsWith("accrue: the JVM was killed by SIGKILL (kill -9, or the kernel's out-of-memory "
                + "killer: this run needed a predicted peak of "), line);
        assertTrue(line.endsWith("; dmesg says which); the newest complete checkpoint is intact: resume with accrue "
                + "train --resume " + run), line);
    }
}
