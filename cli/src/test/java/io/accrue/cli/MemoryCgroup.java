package io.accrue.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A memory cgroup made for a test: processes moved into it share a memory limit, and when they need more than that,
 * the kernel's out-of-memory killer ends one of them — the fault of a machine whose memory another process takes.
 * Either cgroup version (v2 {@code memory.max}, v1 {@code memory.limit_in_bytes}), no swap. Creating one needs root:
 * {@code .ci/run} runs the tests as root; elsewhere the test fails and says so — it never skips.
 */
final class MemoryCgroup implements AutoCloseable {
    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    private final Path dir;

    private MemoryCgroup(Path dir) {
        this.dir = dir;
    }

    /** A new cgroup named {@code name} whose processes may use {@code limitBytes} of memory together. */
    static MemoryCgroup create(String name, long limitBytes) {
        boolean v2 = controllers().contains("memory");
        Path dir = v2 ? ROOT.resolve(name) : ROOT.resolve("memory").resolve(name);
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(v2 ? "memory.max" : "memory.limit_in_bytes"), Long.toString(limitBytes));
            Path noSwap = dir.resolve(v2 ? "memory.swap.max" : "memory.swappiness");
            if (Files.exists(noSwap)) {
                Files.writeString(noSwap, "0");
            }
        } catch (IOException e) {
            fail("cannot create the memory cgroup " + dir + " (" + e + "): this test lets the kernel's out-of-memory "
                    + "killer end a run for real, which needs root and a cgroup file system with the memory "
                    + "controller; run it as root, as .ci/run does");
        }
        return new MemoryCgroup(dir);
    }

    private static String controllers() {
        try {
            return Files.readString(ROOT.resolve("cgroup.controllers"));
        } catch (IOException e) {
            return ""; // cgroup v1: one hierarchy per controller
        }
    }

    /** A shell command that moves the shell running it (and so what it starts) into this cgroup. */
    String enter() {
        return "echo $$ > " + dir.resolve("cgroup.procs");
    }

    /** Removes the cgroup once the processes in it have ended. */
    @Override
    public void close() throws IOException, InterruptedException {
        for (int i = 0; i < 100; i++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException busy) {
                TimeUnit.MILLISECONDS.sleep(100); // a process in it is still ending
            }
        }
        Files.deleteIfExists(dir);
    }
}
