package io.accrue.cli;

import io.accrue.train.Checkpoint;
import io.accrue.train.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real {@code accrue train} process killed with SIGKILL between checkpoints leaves an intact checkpoint, and
 * resuming from it ends with the same weights and optimizer state, bit for bit, as an uninterrupted run.
 */
class CliKillTest {
    private static final Pattern STEP = Pattern.compile("\"step\": (\\d+)");
    private static final int STEPS = 16;

    @TempDir
    Path tmp;

    /** 64 problems, B=4 × K=4, dropout on: windows cross epoch boundaries and masks are keyed. */
    private static List<String> args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("train", "--train-size", "64", "--eval-size", "0", "-b", "4", "-n",
                "16", "--steps", Integer.toString(STEPS), "--warmup", "2", "--dropout", "0.1", "--threads", "1",
                "--progress", "plain", "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void sigkilledRunResumesToTheSameBitsAsAnUninterruptedOne() throws Exception {
        Path killed = tmp.resolve("killed");
        Path sidecar = killed.resolve("checkpoint").resolve(Checkpoint.SIDECAR);
        List<String> cmd = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                        .toString()),
                "--add-modules", "jdk.incubator.vector", "-Xmx512m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        // 50 ms after each step: the kill lands between checkpoints, and the run cannot finish before it
        cmd.addAll(args(killed, "--checkpoint-every", "2", "--step-delay", "50"));
        Path log = tmp.resolve("child.log");
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long seen = -1;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (seen < 4) {
                if (!child.isAlive()) {
                    fail("the run ended (exit " + child.exitValue() + ") before a checkpoint at step ≥ 4:\n"
                            + Files.readString(log));
                }
                if (System.nanoTime() > deadline) {
                    fail("no checkpoint at step ≥ 4 within 120 s:\n" + Files.readString(log));
                }
                seen = savedStep(sidecar);
                Thread.sleep(5);
            }
        } finally {
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the child did not die");
        }
        assertEquals(137, child.exitValue(), "killed by SIGKILL (128 + 9)");

        // the checkpoint left behind is whole: its sidecar parses and every file's size and SHA-256 match
        Checkpoint cp = Checkpoint.load(killed.resolve("checkpoint"));
        long at = cp.state().step();
        assertTrue(at >= 4 && at < STEPS && at % 2 == 0, "checkpoint at step " + at);
        Map<?, ?> j = (Map<?, ?>) Json.parse(Files.readString(sidecar));
        for (String key : List.of("model_file", "optimizer_file")) {
            Map<?, ?> f = (Map<?, ?>) j.get(key);
            Path file = killed.resolve("checkpoint").resolve((String) f.get("name"));
            assertEquals(f.get("bytes"), Files.size(file), key);
            assertEquals(f.get("sha256"), sha256(file), key);
        }

        CliRun resumed = CliRun.of(args(killed, "--resume", killed.toString()).toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resuming at step " + at), resumed.out());
        Path whole = tmp.resolve("whole");
        CliRun uninterrupted = CliRun.of(args(whole).toArray(String[]::new));
        assertEquals(0, uninterrupted.code(), uninterrupted.err());

        assertArrayEquals(Files.readAllBytes(file(whole, "model-")), Files.readAllBytes(file(killed, "model-")),
                "weights after " + STEPS + " steps, uninterrupted vs killed at step ≥ " + at + " and resumed");
        assertArrayEquals(Files.readAllBytes(file(whole, "optimizer-")),
                Files.readAllBytes(file(killed, "optimizer-")), "optimizer state");
        // the steps logged after the checkpoint by the killed process are replaced, not duplicated
        List<String> metrics = Files.readAllLines(killed.resolve("metrics.jsonl"));
        assertEquals(STEPS, metrics.size());
        for (int i = 0; i < STEPS; i++) {
            assertTrue(metrics.get(i).startsWith("{\"step\":" + (i + 1) + ","), metrics.get(i));
        }
        assertFalse(Files.exists(killed.resolve("checkpoint").resolve(Checkpoint.SIDECAR + ".tmp")));
    }

    /** The step recorded in the sidecar, or -1 while there is none. */
    private static long savedStep(Path sidecar) {
        try {
            Matcher m = STEP.matcher(Files.readString(sidecar));
            return m.find() ? Long.parseLong(m.group(1)) : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    private static Path file(Path run, String prefix) throws IOException {
        return CliRun.newest(run, prefix.equals("model-") ? "model_file" : "optimizer_file");
    }

    private static String sha256(Path f) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }
}
