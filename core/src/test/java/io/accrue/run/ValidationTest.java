package io.accrue.run;

import io.accrue.autograd.Tape;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.train.Checkpoint;
import io.accrue.train.Json;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The validation loss of a text run on prepared shards: the same for every split, deterministic, never changing
 * training, logged in {@code metrics.jsonl} and {@code results.json}, with the best checkpoint kept.
 */
class ValidationTest {
    private static final GptConfig SHAPE = new GptConfig(1, 2, 32, 16, 256, 0.1f);

    @TempDir
    Path tmp;
    private Path data;

    @BeforeEach
    void prepare() throws IOException {
        data = PreparedText.bytes(tmp, 12_000, 0.2);
    }

    private RunResult run(String name, int b, int k, long evalEvery) throws IOException {
        RunSpec spec = RunSpec.builder(TaskKind.TEXT).data(data).shape(SHAPE).context(16).evalEvery(evalEvery)
                .evalTokens(300L).train(t -> t.microBatch(b).accumulationSteps(k).maxSteps(6).warmupSteps(1)
                        .threads(2).seed(5)).out(tmp.resolve(name)).build();
        return Run.prepare(spec, null).execute(RunListener.NONE);
    }

    private static double[] valLosses(RunResult r) {
        return r.evals().stream().filter(e -> e.metric().equals("val_loss")).mapToDouble(RunResult.Eval::value)
                .toArray();
    }

    /** The newest checkpoint's model or optimizer file (the directory also keeps the one before). */
    private byte[] file(String run, String prefix) throws IOException {
        Checkpoint cp = Checkpoint.load(tmp.resolve(run).resolve(Run.CHECKPOINT_DIR));
        return Files.readAllBytes(prefix.startsWith("model") ? cp.modelFile() : cp.optimizerFile());
    }

    @Test
    void validationIsIdenticalAcrossSplits() throws IOException {
        double[] a = valLosses(run("b4k2", 4, 2, 2));
        double[] b = valLosses(run("b2k4", 2, 4, 2));
        double[] c = valLosses(run("b8k1", 8, 1, 2));
        assertEquals(3, a.length, "after steps 2, 4 and 6");
        assertArrayEquals(a, b, "bits: B=4 K=2 vs B=2 K=4");
        assertArrayEquals(a, c, "bits: B=4 K=2 vs B=8 K=1");
        assertArrayEquals(file("b4k2", "model-"), file("b2k4", "model-"));
        assertArrayEquals(file("b4k2", "model-"), file("b8k1", "model-"));
        assertTrue(a[2] < a[0], "the validation loss falls: " + a[0] + " → " + a[2]);
    }

    @Test
    void validationChangesNoTrainingState() throws IOException {
        RunResult with = run("with", 4, 2, 1);
        RunResult without = run("without", 4, 2, 0);
        assertEquals(6, valLosses(with).length);
        assertEquals(0, valLosses(without).length);
        for (int i = 0; i < 6; i++) {
            assertEquals(without.history().get(i).loss(), with.history().get(i).loss(), "step " + (i + 1));
            assertEquals(without.history().get(i).gradNorm(), with.history().get(i).gradNorm(), "step " + (i + 1));
        }
        assertArrayEquals(file("without", "model-"), file("with", "model-"), "weights");
        assertArrayEquals(file("without", "optimizer-"), file("with", "optimizer-"), "optimizer state");
        assertFalse(Files.exists(tmp.resolve("without").resolve(Run.BEST_CHECKPOINT_DIR)));
    }

    @Test
    void validationIsDeterministicAndIndependentOfItsBatchSize() throws IOException {
        RunResult r = run("det", 4, 2, 3);
        double last = valLosses(r)[1];
        Checkpoint cp = Checkpoint.load(tmp.resolve("det").resolve(Run.CHECKPOINT_DIR));
        RunSpec spec = RunSpec.fromCheckpoint(cp);
        Gpt model = new Gpt(spec.gpt(), 0);
        cp.restoreWeights(model.parameters());
        Validation v = TokenData.text(spec, Prepare.Listener.NONE).validation();
        assertEquals(300 / 16 * 16, v.tokens());
        try (Compute compute = new Compute(1)) {
            Tape tape = new Tape(compute, new Arena());
            tape.setTraining(true);
            for (int batch : new int[] {1, 3, 18, 64}) {
                assertEquals(last, v.loss(model, tape, batch), "eval micro-batch " + batch);
            }
            assertTrue(tape.training(), "the tape's mode is restored");
        }
    }

    @Test
    void valLossIsLoggedAndTheBestCheckpointKept() throws IOException {
        RunResult r = run("log", 4, 2, 2);
        List<String> lines = Files.readAllLines(tmp.resolve("log").resolve("metrics.jsonl"));
        assertEquals(6, lines.size());
        double[] v = valLosses(r);
        for (int i = 0; i < 6; i++) {
            Map<?, ?> m = (Map<?, ?>) Json.parse(lines.get(i));
            if ((i + 1) % 2 == 0) {
                assertEquals(v[i / 2], m.get("val_loss"), "line " + (i + 1));
            } else {
                assertFalse(m.containsKey("val_loss"), "line " + (i + 1));
            }
        }
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            best = v[i] < v[best] ? i : best;
        }
        Map<?, ?> results = (Map<?, ?>) Json.parse(Files.readString(tmp.resolve("log").resolve("results.json")));
        assertEquals(v[v.length - 1], results.get("val_loss"));
        assertEquals(v[best], results.get("best_val_loss"));
        assertEquals(2L * (best + 1), results.get("best_step"));
        Checkpoint cp = Checkpoint.load(tmp.resolve("log").resolve(Run.BEST_CHECKPOINT_DIR));
        assertEquals(2L * (best + 1), cp.state().step());
        assertEquals(Double.toString(v[best]), cp.metadata().get("best_value"));
        assertNotEquals(null, RunSpec.fromCheckpoint(cp));
    }

    @Test
    void resumedRunOnShardsEndsWithTheSameBits() throws IOException {
        run("whole", 2, 4, 2);
        RunSpec spec = RunSpec.builder(TaskKind.TEXT).data(data).shape(SHAPE).context(16).evalEvery(2L)
                .evalTokens(300L).train(t -> t.microBatch(2).accumulationSteps(4).maxSteps(6).warmupSteps(1)
                        .threads(2).seed(5)).out(tmp.resolve("halves")).build();
        Run<?> first = Run.prepare(spec, null);
        first.execute(new RunListener() {
            @Override
            public void step(StepReport report) {
                if (report.metrics().step() + 1 == 3) {
                    first.stop();
                }
            }
        });
        Checkpoint cp = Checkpoint.load(tmp.resolve("halves").resolve(Run.CHECKPOINT_DIR));
        assertEquals(3, cp.state().step());
        RunResult rest = Run.prepare(RunSpec.fromCheckpoint(cp), cp).execute(RunListener.NONE);
        assertEquals(6, rest.steps());
        assertArrayEquals(file("whole", "model-"), file("halves", "model-"));
        assertArrayEquals(file("whole", "optimizer-"), file("halves", "optimizer-"));
        Map<?, ?> a = (Map<?, ?>) Json.parse(Files.readString(tmp.resolve("whole").resolve("results.json")));
        Map<?, ?> b = (Map<?, ?>) Json.parse(Files.readString(tmp.resolve("halves").resolve("results.json")));
        assertEquals(a.get("best_val_loss"), b.get("best_val_loss"), "the best of the first half is remembered");
        assertEquals(a.get("best_step"), b.get("best_step"));
    }

    @Test
    void specRecordsItsValidationAndReadsSpecsWrittenBeforeIt() {
        RunSpec spec = RunSpec.builder(TaskKind.TEXT).data(data).shape(SHAPE).context(16).out(tmp.resolve("s"))
                .build();
        assertEquals("bytes", spec.tokenizer(), "the prepared directory's tokenizer");
        assertEquals(TaskKind.EVAL_EVERY, spec.evalEvery(), "shards with val.bin validate by default");
        assertEquals(TaskKind.EVAL_TOKENS, spec.evalTokens());
        assertEquals(spec, RunSpec.fromJson(spec.toJson()));
        String older = spec.toJson().replaceAll(",\\s*\"eval_every\": \\d+", "")
                .replaceAll(",\\s*\"eval_tokens\": \\d+", "");
        assertFalse(older.contains("eval_every") || older.contains("eval_tokens"), older);
        assertEquals(0, RunSpec.fromJson(older).evalEvery(), "a spec from before validation: none");
        RunSpec bytes = RunSpec.builder(TaskKind.TEXT).data(tmp.resolve("text.txt")).shape(SHAPE).out(tmp)
                .build();
        assertEquals(0, bytes.evalEvery(), "a text file read as bytes holds nothing out");
    }
}
