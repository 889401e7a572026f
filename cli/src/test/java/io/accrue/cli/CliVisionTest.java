package io.accrue.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code accrue train --task fashion-mnist} end to end on a tiny generated data set in the real file format
 * (gzip'd IDX, 28×28): accuracy per epoch on the console, in metrics.jsonl and the report; the BatchNorm warning;
 * the missing-data error; bit-exact resume.
 */
class CliVisionTest {
    @TempDir
    Path tmp;

    /** Writes {@code train} and {@code test} images whose label is the brightest of 10 horizontal bands. */
    private Path dataset(int train, int test) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("fmnist"));
        write(dir, "train", train, 1);
        write(dir, "t10k", test, 2);
        return dir;
    }

    private static void write(Path dir, String prefix, int n, int salt) throws IOException {
        try (DataOutputStream img = gzip(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
             DataOutputStream lab = gzip(dir.resolve(prefix + "-labels-idx1-ubyte.gz"))) {
            img.writeInt(0x803);
            img.writeInt(n);
            img.writeInt(28);
            img.writeInt(28);
            lab.writeInt(0x801);
            lab.writeInt(n);
            for (int i = 0; i < n; i++) {
                int label = (i * 7 + salt) % 10;
                lab.writeByte(label);
                for (int r = 0; r < 28; r++) {
                    for (int c = 0; c < 28; c++) {
                        int noise = (i * 31 + r * 17 + c * 13 + salt) % 40;
                        img.writeByte(r * 10 / 28 == label ? 200 + noise : noise);
                    }
                }
            }
        }
    }

    private static DataOutputStream gzip(Path f) throws IOException {
        OutputStream o = Files.newOutputStream(f);
        return new DataOutputStream(new GZIPOutputStream(o));
    }

    private static List<String> args(Path data, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--task", "fashion-mnist", "--data", data.toString(), "-b",
                "4", "-n", "8", "--epochs", "2", "--warmup", "2", "--threads", "1", "--progress", "plain", "--out",
                out.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    private static CliRun ok(List<String> args) {
        CliRun r = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), "stderr: " + r.err() + "\nstdout: " + r.out());
        return r;
    }

    @Test
    void trainsTheCnnAndReportsTestAccuracyAfterEveryEpoch() throws IOException {
        Path data = dataset(64, 30);
        Path out = tmp.resolve("run");
        CliRun r = ok(args(data, out));
        assertTrue(r.out().contains("64 training images, test accuracy on 30 test images"), r.out());
        assertTrue(r.out().contains("B=4 × K=2 = effective 8 examples; 16 steps (2 epochs)"), r.out());
        assertTrue(r.out().contains("img/s"), r.out());
        assertTrue(r.out().contains("test accuracy after epoch 1 (step 8): "), r.out());
        assertTrue(r.out().contains("test accuracy after epoch 2 (step 16): "), r.out());
        assertFalse(r.out().contains("warning"), r.out());
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        assertEquals(16, lines.size());
        for (int i = 0; i < 16; i++) {
            assertEquals(i == 7 || i == 15, lines.get(i).contains("\"test_accuracy\":"), lines.get(i));
            assertTrue(lines.get(i).contains("\"images_per_s\":"), lines.get(i));
        }
        assertTrue(Files.readString(out.resolve("results.json")).contains("\"test_accuracy\": "));
        String report = Files.readString(out.resolve("report.html"));
        assertTrue(report.contains("test accuracy per epoch"), "accuracy table in the report");
        assertTrue(report.contains("<tr><td>2</td><td>16</td>"), "epoch 2 row");
        assertTrue(Files.exists(out.resolve("checkpoint/checkpoint.json")));
    }

    @Test
    void stepsRunsAreScoredAtTheEndAndBatchNormWarns() throws IOException {
        Path data = dataset(64, 10);
        Path out = tmp.resolve("bn");
        CliRun r = ok(List.of("train", "--task", "fashion-mnist", "--data", data.toString(), "--norm", "batch", "-b",
                "4", "-n", "8", "--steps", "3", "--warmup", "1", "--threads", "1", "--progress", "plain", "--out",
                out.toString()));
        assertTrue(r.out().contains("warning: model has BatchNorm and accumulates K > 1"), r.out());
        assertTrue(r.out().contains("test accuracy after step 3: "), r.out());
        assertTrue(Files.readAllLines(out.resolve("metrics.jsonl")).get(2).contains("\"test_accuracy\":"));

    }

    /**
     * BatchNorm's running statistics are in the checkpoint: a --norm batch run resumes bit-exactly (inside a window
     * too: MidWindowResumeTest), but not with another micro-batch size, which changes its statistics.
     */
    @Test
    void batchNormRunsResumeBitExactly() throws IOException {
        Path data = dataset(64, 10);
        Path whole = tmp.resolve("whole");
        Path first = tmp.resolve("first");
        List<String> bn = List.of("--norm", "batch");
        ok(args(data, whole, bn.toArray(String[]::new)));
        List<String> stopped = new java.util.ArrayList<>(bn);
        stopped.addAll(List.of("--stop-after", "3"));
        ok(args(data, first, stopped.toArray(String[]::new)));
        CliRun r = ok(List.of("train", "--resume", first.toString(), "--progress", "plain"));
        assertTrue(r.out().contains("resuming at step 3"), r.out());
        assertArrayEquals(Files.readAllBytes(CliRun.newest(whole, "model_file")),
                Files.readAllBytes(CliRun.newest(first, "model_file")), "weights and running statistics");
        assertArrayEquals(Files.readAllBytes(CliRun.newest(whole, "optimizer_file")),
                Files.readAllBytes(CliRun.newest(first, "optimizer_file")));
        CliRun otherB = CliRun.of("train", "--resume", first.toString(), "-b", "2");
        assertEquals(2, otherB.code(), otherB.err());
        assertTrue(otherB.err().contains("BatchNorm's statistics are per micro-batch"), otherB.err());
    }

    @Test
    void missingDataIsOneLineWithTheInstallHint() {
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of("train", "--task", "fashion-mnist", "--data", tmp.resolve("nowhere").toString(),
                "--out", out.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("accrue: Fashion-MNIST: ") && r.err().contains("apt-get install "
                + "dataset-fashion-mnist"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void gptOptionsAreRefusedForTheVisionTask() throws IOException {
        Path data = dataset(8, 4);
        CliRun r = CliRun.of("train", "--task", "fashion-mnist", "--data", data.toString(), "--checkpointing");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--checkpointing applies to the GPT tasks"), r.err());
        CliRun n = CliRun.of("train", "--norm", "group");
        assertEquals(2, n.code(), n.err());
        assertTrue(n.err().contains("--norm applies to --task fashion-mnist only"), n.err());
    }

    @Test
    void aMemoryBudgetIsPlannedForTheCnnByItsDryRun() throws IOException {
        Path data = dataset(64, 10);
        Path out = tmp.resolve("planned");
        CliRun r = CliRun.of("train", "--task", "fashion-mnist", "--data", data.toString(), "--memory", "400m",
                "-n", "16", "--steps", "2", "--threads", "1", "--progress", "plain", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("micro-batch 16 × accumulation 1; predicted peak:"), r.out());
        assertTrue(Files.readString(out.resolve("results.json")).contains("\"planned_activation_bytes\": "));
        CliRun tight = CliRun.of("train", "--task", "fashion-mnist", "--data", data.toString(), "--memory", "10m",
                "--out", tmp.resolve("tight").toString());
        assertEquals(2, tight.code(), tight.err());
        assertTrue(tight.err().contains("cannot hold even micro-batch 1"), tight.err());
    }

    @Test
    void theResidualModelTrainsPlansAndResumes() throws IOException {
        Path data = dataset(64, 10);
        Path out = tmp.resolve("resnet");
        CliRun r = ok(args(data, out, "--model", "resnet", "--stop-after", "2", "--checkpoint-every", "2"));
        assertTrue(r.out().contains("model resnet: residual blocks 1→32→64→128"), r.out());
        CliRun planned = ok(List.of("train", "--task", "fashion-mnist", "--data", data.toString(), "--model",
                "resnet", "--memory", "600m", "-n", "16", "--steps", "1", "--threads", "1", "--progress", "plain",
                "--out", tmp.resolve("planned").toString()));
        assertTrue(planned.out().contains("predicted peak:"), planned.out());
        CliRun resumed = ok(args(data, out, "--resume", out.toString()));
        assertTrue(resumed.out().contains("model resnet"), resumed.out());
        CliRun bad = CliRun.of("train", "--task", "fashion-mnist", "--data", data.toString(), "--model", "vgg");
        assertEquals(2, bad.code(), bad.err());
        assertEquals("accrue: --model: unknown value 'vgg' for fashion-mnist; use cnn (two conv blocks) or resnet "
                + "(three residual blocks)", bad.err().strip());
    }

    @Test
    void resumedRunEndsWithTheSameBitsAsAnUninterruptedOne() throws IOException {
        Path data = dataset(64, 10);
        Path whole = tmp.resolve("whole");
        Path first = tmp.resolve("first");
        ok(args(data, whole));
        ok(args(data, first, "--stop-after", "5", "--checkpoint-every", "5"));
        CliRun r = ok(args(data, first, "--resume", first.toString()));
        assertTrue(r.out().contains("resuming at step 5"), r.out());
        assertArrayEquals(Files.readAllBytes(CliRun.newest(whole, "model_file")),
                Files.readAllBytes(file(first, "model-00000016")));
        assertArrayEquals(Files.readAllBytes(CliRun.newest(whole, "optimizer_file")),
                Files.readAllBytes(file(first, "optimizer-00000016")));
        assertEquals(16, Files.readAllLines(first.resolve("metrics.jsonl")).size());
    }

    private static Path file(Path run, String prefix) throws IOException {
        try (Stream<Path> s = Files.list(run.resolve("checkpoint"))) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst().orElseThrow();
        }
    }
}
