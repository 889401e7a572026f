package io.accrue.spark;

import io.accrue.models.Gpt;
import io.accrue.run.Run;
import io.accrue.run.RunListener;
import io.accrue.run.RunSpec;
import io.accrue.run.TaskKind;
import io.accrue.train.Checkpoint;
import io.accrue.train.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Driver failure: a run stopped after step 2 and resumed from its checkpoint alone (the spec it holds) ends with the
 * uninterrupted bits.
 */
class SparkTrainResumeTest {

    static int run(String... args) {
        return SparkTrain.commandLine().execute(args);
    }

    static Path spec(Path dir) throws IOException {
        RunSpec spec = RunSpec.builder(TaskKind.ADDITION).digits(2).trainSize(256).checkpointEvery(2)
                .train(t -> t.microBatch(4).accumulationSteps(2).maxSteps(4).threads(1)).out(dir.resolve("spec-out"))
                .build();
        return Files.writeString(dir.resolve("run.json"), spec.toJson());
    }

    static float[] weights(Path out) {
        Checkpoint cp = Checkpoint.load(out.resolve("checkpoint"));
        assertEquals(4, cp.state().step());
        Gpt model = new Gpt(RunSpec.fromCheckpoint(cp).gpt(), 1);
        cp.restoreWeights(model.parameters());
        return model.parameters().values();
    }

    @Test
    void resumedRunEndsWithTheUninterruptedBits(@TempDir Path dir) throws IOException {
        String spec = spec(dir).toString();
        String[] cluster = {"--master", "local[2]", "--workers", "2"};
        assertEquals(0, run(concat(cluster, "--spec", spec, "--out", dir.resolve("straight").toString())));
        assertEquals(0, run(concat(cluster, "--spec", spec, "--out", dir.resolve("crashed").toString(),
                "--stop-after", "2")));
        assertEquals(2, Checkpoint.load(dir.resolve("crashed/checkpoint")).state().step());
        assertEquals(0, run(concat(cluster, "--resume", dir.resolve("crashed").toString())));
        assertArrayEquals(weights(dir.resolve("straight")), weights(dir.resolve("crashed")));
    }

    @Test
    void sparkWritesTheRunLayersMetricsSchemaPlusItsSynchronization(@TempDir Path dir) throws IOException {
        Path spec = spec(dir);
        assertEquals(0, run("--master", "local[2]", "--workers", "2", "--spec", spec.toString(), "--out",
                dir.resolve("spark").toString()));
        RunSpec local = RunSpec.fromJson(Files.readString(spec)).withOut(dir.resolve("local"));
        Run.prepare(local, null).execute(RunListener.NONE);
        List<String> sparkLines = Files.readAllLines(dir.resolve("spark/metrics.jsonl"));
        List<String> localLines = Files.readAllLines(dir.resolve("local/metrics.jsonl"));
        assertEquals(localLines.size(), sparkLines.size());
        Map<?, ?> s = (Map<?, ?>) Json.parse(sparkLines.getFirst());
        Map<?, ?> l = (Map<?, ?>) Json.parse(localLines.getFirst());
        List<Object> expected = new ArrayList<>(l.keySet());
        expected.add("sync_ms");
        assertEquals(expected, new ArrayList<>(s.keySet()));
        assertTrue(s.get("sync_ms") instanceof Double, "the first step's synchronization is measured too");
        Map<?, ?> results = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("spark/results.json")));
        assertEquals(2L, results.get("workers"), "a fact of the whole run: once, in results.json");
    }

    @Test
    void missingSpecIsOneLineOfBadInput(@TempDir Path dir) {
        assertEquals(SparkTrain.USAGE, run("--spec", dir.resolve("none.json").toString()));
        assertEquals(SparkTrain.USAGE, run("--workers", "2"));
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
