package io.accrue.run;

import io.accrue.nn.NormKind;
import io.accrue.train.AccumulationSchedule;
import io.accrue.train.OptimizerKind;
import io.accrue.train.ScheduleKind;
import io.accrue.train.TrainConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A run's description: its defaults, its validation, and JSON that gives back the same value. */
class RunSpecTest {
    private static final Path OUT = Path.of("runs", "x");

    @Test
    void everyTaskRoundTripsThroughJson() {
        RunSpec addition = RunSpec.builder(TaskKind.ADDITION).digits(2).trainSize(500).dropout(0.1f).out(OUT)
                .train(t -> t.microBatch(4).accumulationSteps(3).seed(9).clipNorm(Double.POSITIVE_INFINITY)
                        .optimizer(OptimizerKind.SGD).momentum(0.9).schedule(ScheduleKind.LINEAR).warmupSteps(7)
                        .accumulationSchedule(AccumulationSchedule.byStep(Map.of(10L, 6, 20L, 2))))
                .build();
        RunSpec text = RunSpec.builder(TaskKind.TEXT).data(Path.of("book.txt")).model("small").context(64)
                .checkpointing(true).memoryBudget(2L << 30).checkpointEvery(50).out(OUT)
                .train(t -> t.linearScaling(32).lr(3e-4).concurrentMicroBatches(1)).build();
        RunSpec vision = RunSpec.builder(TaskKind.FASHION_MNIST).data(Path.of("fm")).norm(NormKind.LAYER)
                .evalSize(100).out(OUT).train(t -> t.epochs(3).dropLast(true).shuffle(false)).build();
        for (RunSpec s : new RunSpec[] {addition, text, vision}) {
            RunSpec back = RunSpec.fromJson(s.toJson());
            assertEquals(s, back, s.toJson());
            assertEquals(s.toJson(), back.toJson());
        }
        assertEquals(Double.POSITIVE_INFINITY, RunSpec.fromJson(addition.toJson()).train().clipNorm());
        assertEquals(3e-4 * 64 / 32, text.train().lr(), 1e-15, "linear scaling: N 64 over a base of 32");
    }

    @Test
    void theDefaultsAreTheBuildersAndTheTasks() {
        TrainConfig library = TrainConfig.builder().build();
        RunSpec text = RunSpec.builder(TaskKind.TEXT).data(Path.of("t.txt")).out(OUT).build();
        assertEquals(library.microBatch(), text.train().microBatch());
        assertEquals(library.effectiveBatch(), text.train().effectiveBatch());
        assertEquals(library.lr(), text.train().lr());
        assertEquals(library.clipNorm(), text.train().clipNorm());
        assertEquals(library.schedule(), text.train().schedule());
        assertEquals(TaskKind.GPT_STEPS, text.train().maxSteps());
        assertEquals("tiny", text.model());
        RunSpec adder = RunSpec.builder(TaskKind.ADDITION).out(OUT).build();
        assertEquals(1, adder.train().threads(), "the adder's matrices are too small to split");
        RunSpec vision = RunSpec.builder(TaskKind.FASHION_MNIST).out(OUT).build();
        assertEquals(16, vision.train().microBatch());
        assertEquals(2e-3, vision.train().lr());
        assertEquals(1, vision.train().epochs());
        assertEquals(10, library.warmupSteps(100), "100 warmup steps, at most a tenth of the run");
        assertEquals(100, library.warmupSteps(5000));
    }

    @Test
    void badSpecsNameTheFieldOrOption() {
        RunSpec ok = RunSpec.builder(TaskKind.ADDITION).out(OUT).build();
        String json = ok.toJson();
        assertMessage(() -> RunSpec.fromJson(json.replace("\"digits\"", "\"digitz\"")), "unknown key 'digitz'");
        assertMessage(() -> RunSpec.fromJson(json.replace("\"micro_batch\": 8", "\"micro_batch\": \"8\"")),
                "'micro_batch' must be an integer");
        assertMessage(() -> RunSpec.fromJson(json.replace("\"micro_batch\": 8", "\"micro_batch\": 0")),
                "microBatch must be positive");
        assertMessage(() -> RunSpec.fromJson("{\"task\": \"addition\""), "malformed JSON");
        assertMessage(() -> RunSpec.fromJson(json.replace("\"addition\",", "\"poetry\",")), "unknown value 'poetry'");
        assertMessage(() -> RunSpec.builder(TaskKind.TEXT).out(OUT).build(), "--task text needs --data");
        assertMessage(() -> RunSpec.builder(TaskKind.FASHION_MNIST).model("tiny").out(OUT).build(),
                "--model: unknown value 'tiny' for fashion-mnist; use cnn (two conv blocks) or resnet");
        assertMessage(() -> RunSpec.builder(TaskKind.ADDITION).norm(NormKind.GROUP).out(OUT).build(),
                "--norm applies to --task fashion-mnist only");
        assertMessage(() -> RunSpec.builder(TaskKind.ADDITION).data(Path.of("x")).out(OUT).build(),
                "--data applies to --task text or fashion-mnist");
        assertMessage(() -> RunSpec.builder(TaskKind.ADDITION).train(t -> t.microBatch(6)).out(OUT).build(),
                "default effective batch 64 is not divisible by microBatch 6");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String expected) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(expected), "'" + x.getMessage() + "' lacks '" + expected + "'");
    }
}
