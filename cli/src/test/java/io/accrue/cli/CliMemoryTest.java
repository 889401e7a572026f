package io.accrue.cli;

import io.accrue.run.ModelShapes;
import io.accrue.data.AdditionTask;
import io.accrue.models.GptConfig;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.OptimizerKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code train --memory}: the planner's B and K are used, an impossible budget is refused before any output. */
class CliMemoryTest {
    @TempDir
    Path tmp;

    /** The adder model on the 3-digit addition task, as {@code train} builds it. */
    private static GptConfig adder() {
        AdditionTask t = new AdditionTask(3, 1337);
        return ModelShapes.resolve("adder").withVocab(AdditionTask.VOCABULARY.size()).withContext(t.seq());
    }

    private static List<String> tiny(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--train-size", "64", "--eval-size", "0", "-n", "16",
                "--steps", "2", "--warmup", "1", "--threads", "1", "--progress", "plain", "--out", out.toString()));
        a.addAll(List.of(extra));
        return a;
    }

    @Test
    void trainUsesThePlannedMicroBatchAndAccumulation() throws IOException {
        int t = new AdditionTask(3, 1337).seq();
        MemoryPlan four = MemoryPlanner.plan(adder(), 4, 4, t, OptimizerKind.ADAMW, 0, 1, false);
        MemoryPlan eight = MemoryPlanner.plan(adder(), 8, 2, t, OptimizerKind.ADAMW, 0, 1, false);
        assertTrue(four.totalBytes() < eight.totalBytes());
        Path out = tmp.resolve("run");
        CliRun r = CliRun.of(tiny(out, "--memory", Long.toString(four.totalBytes())).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("micro-batch 4 × accumulation 4; predicted peak:"), r.out());
        assertTrue(r.out().contains("B=4 × K=4 = effective 16"), r.out());
        assertTrue(r.out().contains("activations") && r.out().contains("java heap needed: -Xmx"), r.out());
        assertTrue(Files.readString(out.resolve("results.json")).contains("\"planned_total_bytes\": "
                + four.totalBytes()));

        CliRun heap = CliRun.of(tiny(tmp.resolve("heap"), "--memory", "1g", "--heap-only").toArray(String[]::new));
        assertEquals(0, heap.code(), heap.err());
        assertTrue(heap.out().strip().matches("\\d+"), heap.out());
        assertFalse(Files.exists(tmp.resolve("heap")));
    }

    @Test
    void checkpointingIsPlannedAndUsed() {
        Path out = tmp.resolve("ckpt");
        CliRun r = CliRun.of(tiny(out, "--memory", "1g", "--checkpointing").toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("parameters, activation checkpointing"), r.out());
        assertTrue(r.out().contains("micro-batch 16 × accumulation 1"), r.out());
    }

    @Test
    void aBudgetNotEvenMicroBatchOneFitsIsRefusedBeforeAnythingIsWritten() {
        Path out = tmp.resolve("out");
        CliRun r = CliRun.of(tiny(out, "--memory", "100m").toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("cannot hold even micro-batch 1"), r.err());
        assertEquals("", r.out());
        assertFalse(Files.exists(out), "nothing written");

        CliRun both = CliRun.of(tiny(out, "--memory", "1g", "-b", "4").toArray(String[]::new));
        assertEquals(2, both.code(), both.err());
        assertTrue(both.err().contains("--memory chooses the micro-batch"), both.err());
    }

    @Test
    void planPrintsOnlyTheHeapForTheLauncher() {
        CliRun r = CliRun.of("plan", "--model", "tiny", "--memory", "2g", "--heap-only", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().strip().matches("\\d+"), r.out());
    }
}
