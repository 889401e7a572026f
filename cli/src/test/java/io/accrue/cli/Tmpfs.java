package io.accrue.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A small tmpfs mounted for a test: a real file system that fills up (ENOSPC) or refuses writes (read-only), for the
 * faults a long run meets. Mounting needs root (CAP_SYS_ADMIN): {@code .ci/run} checks that it can before running
 * the tests; elsewhere the test fails and says so — it never skips.
 */
final class Tmpfs implements AutoCloseable {
    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs with {@code options} (e.g. {@code size=768k}, {@code ro,size=64k}) at {@code dir}, created. */
    static Tmpfs mount(Path dir, String options) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        run("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString());
        return new Tmpfs(dir);
    }

    /** The mount point. */
    Path dir() {
        return dir;
    }

    /** Changes the size (freeing space, as a user would before resuming). */
    void resize(String size) throws IOException, InterruptedException {
        run("mount", "-o", "remount,size=" + size, dir.toString());
    }

    /**
     * Fills the file system to the last byte with {@code filler} (a file in it) and returns that file: the next write
     * that needs a new page fails with ENOSPC.
     */
    Path fill() throws IOException {
        Path filler = dir.resolve("filler");
        byte[] page = new byte[4096];
        try (var out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(page);
                out.flush();
            }
        } catch (IOException e) {
            if (!e.getMessage().contains("No space left")) {
                throw e;
            }
        }
        return filler;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        run("umount", "-l", dir.toString());
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            fail(String.join(" ", command) + " failed (" + out + "): these tests mount a small tmpfs to fill a disk "
                    + "for real, which needs root (CAP_SYS_ADMIN); run them as root, as .ci/run does");
        }
    }
}
