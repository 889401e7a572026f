package io.accrue.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The heap from the plan: {@code train}, {@code bench} and {@code sample} print the -Xmx their plan needs with
 * {@code --heap-only} (the launcher's first step); a plan beyond the machine's memory is refused in one line before
 * anything is allocated; an {@link OutOfMemoryError} that happens anyway is one line and exit code 3, no trace.
 */
class CliHeapTest {
    @TempDir
    Path tmp;

    @Test
    void trainBenchAndSamplePrintTheHeapTheirPlanNeeds() throws IOException {
        CliRun train = CliRun.of("train", "--train-size", "64", "--heap-only", "--out", tmp.resolve("t").toString());
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().strip().matches("\\d+"), train.out());
        assertFalse(Files.exists(tmp.resolve("t")), "nothing written");

        CliRun small = CliRun.of("bench", "--model", "tiny", "-b", "1", "-k", "2", "--heap-only");
        CliRun large = CliRun.of("bench", "--model", "tiny", "-b", "8", "-k", "2", "--heap-only");
        assertEquals(0, small.code(), small.err());
        assertTrue(Long.parseLong(small.out().strip()) < Long.parseLong(large.out().strip()),
                small.out() + " < " + large.out());

        Path run = tmp.resolve("run");
        CliRun trained = CliRun.of("train", "--train-size", "64", "--eval-size", "0", "--steps", "1", "--threads", "1",
                "--progress", "plain", "--out", run.toString());
        assertEquals(0, trained.code(), trained.err());
        CliRun sample = CliRun.of("sample", "--checkpoint", run.toString(), "--prompt", "123+456=", "--heap-only");
        assertEquals(0, sample.code(), sample.err());
        assertTrue(sample.out().strip().matches("\\d+"), sample.out());
    }

    @Test
    void aPlanBeyondTheMachinesMemoryIsRefusedBeforeAnyAllocation() {
        System.setProperty(io.accrue.run.MachineMemory.PROPERTY, "200m");
        try {
            Path out = tmp.resolve("out");
            CliRun train = CliRun.of("train", "--model", "small", "-b", "64", "--steps", "1", "--out", out.toString());
            assertEquals(2, train.code(), train.err());
            assertEquals(1, train.err().strip().lines().count(), train.err());
            assertTrue(train.err().startsWith("accrue: this run needs ") && train.err().contains("more than this "
                    + "machine's 200.0 MiB; use --checkpointing, a smaller --micro-batch, or --memory SIZE"),
                    train.err());
            assertFalse(Files.exists(out), "refused before anything was written");

            CliRun bench = CliRun.of("bench", "--model", "small", "-b", "8", "--heap-only");
            assertEquals(2, bench.code(), bench.err());
            assertTrue(bench.err().contains("more than this machine's 200.0 MiB; use --checkpointing or a smaller "
                    + "--micro-batch"), bench.err());
        } finally {
            System.clearProperty(io.accrue.run.MachineMemory.PROPERTY);
        }
    }

    /**
     * The launcher's last step ({@code scripts/launch.sh}) under an address-space limit (ulimit -v) that a 64 GiB heap
     * exceeds: one line with the figure and whose it is, exit 3, no JVM start-up error; a heap within the limit
     * starts the command.
     */
    @Test
    void aHeapTheMachineCannotReserveIsOneLineWithExitCode3() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        String script = ". scripts/jdk.sh && ulimit -v 4000000 && . scripts/launch.sh && launch \"$0\" \"the memory "
                + "plan of this run\" -cp \"$CP\" io.accrue.cli.Main --version";
        for (String heap : List.of("64g", "256m")) {
            ProcessBuilder pb = new ProcessBuilder("bash", "-c", script, heap).directory(root.toFile());
            pb.environment().put("CP", System.getProperty("java.class.path"));
            Path log = tmp.resolve("launch-" + heap + ".log");
            Process p = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "ended");
            String out = Files.readString(log).strip();
            if (heap.equals("64g")) {
                assertEquals(ErrorHandlers.OUT_OF_MEMORY, p.exitValue(), out);
                assertEquals("accrue: cannot reserve the Java heap of 64g (-Xmx64g, the memory plan of this run): this "
                        + "machine or its limits (ulimit -v, vm.overcommit_memory) allow less; free memory or raise "
                        + "the limit, or plan a smaller run (--memory SIZE, a smaller --micro-batch, --checkpointing)",
                        out);
            } else {
                assertEquals(0, p.exitValue(), out);
                assertEquals("accrue 0.1.0", out);
            }
        }
    }

    /** A JVM given too small a heap (not through the launcher): one line naming what ran out and the plan, exit 3. */
    @Test
    void anOutOfMemoryErrorIsOneLineWithExitCode3() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString()),
                "--add-modules", "jdk.incubator.vector", "-Xmx24m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "bench", "--model", "small", "-b", "2", "-k", "2", "--steps", "1", "--warmup", "0", "--threads", "1"));
        Path log = tmp.resolve("oom.log");
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "ended");
        List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.startsWith("WARNING: Using incubator"))
                .toList();
        assertEquals(ErrorHandlers.OUT_OF_MEMORY, child.exitValue(), String.join("\n", lines));
        assertEquals(1, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).startsWith("accrue: out of memory (Java heap space) with a maximum Java heap of ")
                && lines.get(0).contains("; the memory plan: a predicted peak of ")
                && lines.get(0).contains("run through ./accrue"), lines.get(0));
    }
}
