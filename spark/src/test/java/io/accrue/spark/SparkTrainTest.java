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
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code SparkTrain} in local mode ({@code local[W,4]}: W task slots, failed tasks retried): replicas against the
 * single-process run of the same spec — 1 replica bit-identical, W &gt; 1 within the stated tolerance and the same bits
 * every run, a failed replica's restarted stage and a stopped run's resume ending with the uninterrupted bits.
 */
class SparkTrainTest {
    /** Stated tolerance of W &gt; 1 replicas against one process: fp32 rounding of the split chains. */
    static final double TOLERANCE = 1e-5;
    static final int STEPS = 4;

    static int run(String... args) {
        return SparkTrain.commandLine().execute(args);
    }

    /** Tiny GPT on 2-digit addition, B=4 K=4, 4 AdamW steps, a checkpoint every 2. */
    static Path spec(Path dir) throws IOException {
        RunSpec spec = RunSpec.builder(TaskKind.ADDITION).digits(2).trainSize(256).checkpointEvery(2)
                .train(t -> t.microBatch(4).accumulationSteps(4).maxSteps(STEPS).lr(1e-2).threads(1))
                .out(dir.resolve("spec-out")).build();
        return Files.writeString(dir.resolve("run.json"), spec.toJson());
    }

    /** Trains {@code spec} with W replicas into {@code dir/name} (master local[W,4] unless given); the final weights. */
    static float[] spark(Path spec, Path dir, String name, int workers, String... more) {
        List<String> args = new ArrayList<>(List.of("--workers", Integer.toString(workers), "--spec", spec.toString(),
                "--out", dir.resolve(name).toString()));
        args.addAll(Arrays.asList(more));
        if (!args.contains("--master")) {
            args.addAll(List.of("--master", "local[" + workers + ",4]"));
        }
        assertEquals(0, run(args.toArray(String[]::new)));
        return weights(dir.resolve(name));
    }

    /** The single-process run of {@code spec} into {@code dir/local}; returns the final weights. */
    static float[] local(Path spec, Path dir) throws IOException {
        RunSpec s = RunSpec.fromJson(Files.readString(spec)).withOut(dir.resolve("local"));
        Run.prepare(s, null).execute(RunListener.NONE);
        return weights(dir.resolve("local"));
    }

    static float[] weights(Path out) {
        Checkpoint cp = Checkpoint.load(out.resolve("checkpoint"));
        assertEquals(STEPS, cp.state().step());
        Gpt model = new Gpt(RunSpec.fromCheckpoint(cp).gpt(), 1);
        cp.restoreWeights(model.parameters());
        return model.parameters().values();
    }

    static List<Object> column(Path out, String key) throws IOException {
        List<Object> values = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            values.add(((Map<?, ?>) Json.parse(line)).get(key));
        }
        return values;
    }

    static double relL2(float[] a, float[] b) {
        double d = 0;
        double n = 0;
        for (int i = 0; i < a.length; i++) {
            d += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
            n += (double) b[i] * b[i];
        }
        return Math.sqrt(d / n);
    }

    @Test
    void oneReplicaGivesTheSingleProcessBits(@TempDir Path dir) throws IOException {
        Path spec = spec(dir);
        assertArrayEquals(local(spec, dir), spark(spec, dir, "one", 1), "1 replica must give the single-process bits");
        assertEquals(column(dir.resolve("local"), "loss"), column(dir.resolve("one"), "loss"));
    }

    @Test
    void replicasMatchOneProcessWithinToleranceAndRepeatBitForBit(@TempDir Path dir) throws IOException {
        Path spec = spec(dir);
        float[] single = local(spec, dir);
        float[] two = spark(spec, dir, "two", 2);
        float[] three = spark(spec, dir, "three", 3); // K=4 cut 1+1+2
        double rel2 = relL2(two, single);
        double rel3 = relL2(three, single);
        System.out.printf("rel L2 vs one process after %d steps: 2 replicas %.3e, 3 replicas %.3e%n", STEPS, rel2,
                rel3);
        assertTrue(rel2 > 0 && rel2 < TOLERANCE, "2 replicas: rel L2 " + rel2);
        assertTrue(rel3 > 0 && rel3 < TOLERANCE, "3 replicas: rel L2 " + rel3);
        assertArrayEquals(two, spark(spec, dir, "two-again", 2), "two runs with 2 replicas must give the same bits");
    }

    @Test
    void aFailedReplicaRestartsTheStageFromTheLastCheckpoint(@TempDir Path dir) throws IOException {
        Path spec = spec(dir);
        float[] clean = spark(spec, dir, "clean", 2);
        float[] restarted = spark(spec, dir, "restarted", 2, "--fail-at", "3");
        assertArrayEquals(clean, restarted, "the stage restarted from step 2's checkpoint must end with the same bits");
        assertEquals(column(dir.resolve("clean"), "loss"), column(dir.resolve("restarted"), "loss"));
    }

    @Test
    void resumedRunEndsWithTheUninterruptedBits(@TempDir Path dir) throws IOException {
        Path spec = spec(dir);
        float[] straight = spark(spec, dir, "straight", 2);
        assertEquals(0, run("--master", "local[2]", "--workers", "2", "--spec", spec.toString(), "--out",
                dir.resolve("crashed").toString(), "--stop-after", "2"));
        assertEquals(2, Checkpoint.load(dir.resolve("crashed/checkpoint")).state().step());
        assertEquals(0, run("--master", "local[2]", "--workers", "2", "--resume", dir.resolve("crashed").toString()));
        assertArrayEquals(straight, weights(dir.resolve("crashed")));
    }

    @Test
    void aCheckpointInsideAWindowFinishesItOnEachReplica(@TempDir Path dir) throws IOException {
        Path spec = spec(dir);
        float[] straight = spark(spec, dir, "straight", 2);
        RunSpec s = RunSpec.fromJson(Files.readString(spec)).withOut(dir.resolve("cli"));
        Run<?> cli = Run.prepare(s, null);
        cli.execute(new RunListener() {
            @Override
            public void microBatch(long step, int micro, int k) {
                if (step == 2 && micro == 0) {
                    cli.stop(); // inside step 3, after its first micro-batch
                }
            }
        });
        assertTrue(Checkpoint.load(dir.resolve("cli/checkpoint")).state().windowOpen());
        assertEquals(0, run("--master", "local[2]", "--workers", "2", "--resume", dir.resolve("cli").toString()));
        // step 3 finished alone on each replica (one process's chain), step 4 split: near, not equal, to straight
        double rel = relL2(weights(dir.resolve("cli")), straight);
        assertTrue(rel < TOLERANCE, "rel L2 " + rel);
    }

    @Test
    void sparkWritesTheRunLayersMetricsSchemaPlusItsSynchronization(@TempDir Path dir) throws IOException {
        Path spec = spec(dir);
        spark(spec, dir, "spark", 2);
        local(spec, dir);
        List<String> sparkLines = Files.readAllLines(dir.resolve("spark/metrics.jsonl"));
        List<String> localLines = Files.readAllLines(dir.resolve("local/metrics.jsonl"));
        assertEquals(localLines.size(), sparkLines.size());
        Map<?, ?> s = (Map<?, ?>) Json.parse(sparkLines.getFirst());
        Map<?, ?> l = (Map<?, ?>) Json.parse(localLines.getFirst());
        List<Object> expected = new ArrayList<>(l.keySet());
        expected.addAll(List.of("sync_ms", "sync_cpu_ms", "wait_ms"));
        assertEquals(expected, new ArrayList<>(s.keySet()));
        // W is a fact of the run: once in results.json, not on every line
        Map<?, ?> results = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("spark/results.json")));
        assertEquals(2L, results.get("workers"));
    }

    @Test
    void missingSpecIsOneLineOfBadInput(@TempDir Path dir) {
        assertEquals(SparkTrain.USAGE, run("--spec", dir.resolve("none.json").toString()));
        assertEquals(SparkTrain.USAGE, run("--workers", "2"));
        assertEquals(SparkTrain.USAGE, run("--workers", "0", "--spec", dir.resolve("none.json").toString()));
    }
}
