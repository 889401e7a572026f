package io.accrue.train;

import io.accrue.data.EnvironmentException;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Mlp;
import io.accrue.models.MlpConfig;
import io.accrue.nn.NormKind;
import io.accrue.optim.AdamW;
import io.accrue.tensor.Parallel;
import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The safetensors layout byte by byte, the layout each parameter declares, and a save/load round trip. */
class CheckpointTest {
    @TempDir
    Path tmp;

    private static final GptConfig SHAPE = new GptConfig(1, 2, 8, 4, 5, 0f);

    @Test
    void modelFileFollowsTheSafetensorsFormat() throws IOException {
        Gpt gpt = new Gpt(SHAPE, 7);
        ParameterStore store = gpt.parameters();
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(store, parallel, 0.9f, 0.999f, 1e-8f, 0f);
            Checkpoint.save(tmp, store, adam, new TrainerState(3, 1, 8), Map.of("k", "v"));
        }
        byte[] file = Files.readAllBytes(tmp.resolve("model-00000003.safetensors"));
        ByteBuffer buf = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong();
        assertEquals(0, n % 8, "header padded to a multiple of 8");
        String header = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\""), header);
        Map<?, ?> json = (Map<?, ?>) Json.parse(header);
        assertEquals("v", ((Map<?, ?>) json.get("__metadata__")).get("k"));

        long expectedOffset = 0;
        for (Parameter p : store.parameters()) {
            Map<?, ?> t = (Map<?, ?>) json.get(p.name());
            assertEquals("F32", t.get("dtype"), p.name());
            List<?> shape = (List<?>) t.get("shape");
            List<?> offs = (List<?>) t.get("data_offsets");
            int[] s = p.value().shape();
            boolean conv1d = p.storedTransposed();
            if (conv1d) {
                assertEquals(List.of((long) s[1], (long) s[0]), shape, p.name() + " stored (in, out)");
            } else {
                assertEquals(s.length, shape.size(), p.name());
            }
            assertEquals(expectedOffset, offs.get(0), p.name() + " begins where the previous one ends");
            assertEquals(expectedOffset + 4L * p.size(), offs.get(1), p.name());
            int base = 8 + (int) n + (int) expectedOffset;
            for (int k = 0; k < p.size(); k++) {
                float stored = buf.getFloat(base + 4 * k);
                int src = conv1d ? (k % s[0]) * s[1] + k / s[0] : k;
                assertEquals(Float.floatToRawIntBits(p.value().get(src)), Float.floatToRawIntBits(stored),
                        p.name() + " element " + k);
            }
            expectedOffset += 4L * p.size();
        }
        assertEquals(file.length, 8 + n + expectedOffset, "data section ends the file");
        assertEquals(List.of(8L, 24L), ((Map<?, ?>) json.get("h.0.attn.c_attn.weight")).get("shape"),
                "GPT-2 Conv1D c_attn is (C, 3C)");
        assertEquals(List.of(5L, 8L), ((Map<?, ?>) json.get("wte.weight")).get("shape"));
    }

    /**
     * A Gpt declares GPT-2's {@code Conv1D} weights (the four matrices of each block) stored transposed, and nothing
     * else: the names and layouts Hugging Face's GPT2LMHeadModel loads, so files are what they were when a name
     * pattern in Checkpoint decided it.
     */
    @Test
    void gptDeclaresExactlyGpt2sConv1dWeightsStoredTransposed() {
        Pattern conv1d = Pattern.compile("h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");
        GptConfig cfg = new GptConfig(3, 2, 8, 4, 5, 0f);
        for (ParameterStore store : List.of(new Gpt(cfg, 1).parameters(), Gpt.shapesOnly(cfg).parameters())) {
            long transposed = 0;
            for (Parameter p : store.parameters()) {
                assertEquals(conv1d.matcher(p.name()).matches(), p.storedTransposed(), p.name());
                transposed += p.storedTransposed() ? 1 : 0;
            }
            assertEquals(4 * 3, transposed);
        }
        for (Parameter p : new Mlp(new MlpConfig(4, List.of(8), 3, NormKind.NONE, 1, 0f, 1)).parameters().parameters()) {
            assertFalse(p.storedTransposed(), p.name() + ": an Mlp's weights are stored as they are");
        }
        ParameterStore store = new ParameterStore();
        store.declare("bias", new int[] {3}, false, (a, o, n) -> { });
        var e = assertThrows(IllegalArgumentException.class, () -> store.storeTransposed("bias"));
        assertTrue(e.getMessage().contains("not 2-D"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.storeTransposed("missing"));
    }

    private static AdamW adamW(Gpt model, Parallel parallel) {
        return new AdamW(model.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
    }

    /** {@code model} after one AdamW step on gradients of 0.5, saved at step 1 and loaded back. */
    private Checkpoint savedAfterOneStep(Gpt model, AdamW adam) throws IOException {
        java.util.Arrays.fill(model.parameters().grads(), 0.5f);
        adam.step(0.01f);
        Checkpoint.save(tmp, model.parameters(), adam, new TrainerState(1, 0, 16), Map.of());
        return Checkpoint.load(tmp);
    }

    @Test
    void roundTripRestoresWeightsOptimizerAndState() throws IOException {
        Gpt a = new Gpt(SHAPE, 7);
        Gpt b = new Gpt(SHAPE, 8);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adamA = adamW(a, parallel);
            Checkpoint cp = savedAfterOneStep(a, adamA);
            assertEquals(new TrainerState(1, 0, 16), cp.state());
            AdamW adamB = adamW(b, parallel);
            cp.restoreWeights(b.parameters());
            cp.restoreOptimizer(adamB, b.parameters());
            assertArrayEquals(a.parameters().values(), b.parameters().values());
            assertEquals(1, adamB.steps());
            for (int i = 0; i < adamA.state().size(); i++) {
                assertArrayEquals(adamA.state().get(i), adamB.state().get(i));
            }
            Gpt other = new Gpt(new GptConfig(1, 2, 16, 4, 5, 0f), 1);
            CheckpointException e = assertThrows(CheckpointException.class, () -> cp.restoreWeights(other.parameters()));
            assertTrue(e.getMessage().contains("model-00000001.safetensors: tensor 'wte.weight' has shape [5, 8]"),
                    e.getMessage());
        }
    }

    /**
     * Resuming reads the optimizer state into the optimizer's own buffers: a second copy of AdamW's state (twice the
     * weights) on the heap made a resumed gpt2-medium run exceed the heap its plan sized (8 GiB) and stop with
     * OutOfMemoryError. Restoring allocates the I/O buffers the file's bytes pass through, not another copy.
     */
    @Test
    void restoringTheOptimizerAllocatesNoCopyOfItsState() throws IOException {
        GptConfig shape = new GptConfig(2, 4, 128, 16, 1024, 0f);
        Gpt a = new Gpt(shape, 7);
        Gpt b = new Gpt(shape, 8);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adamA = adamW(a, parallel);
            Checkpoint cp = savedAfterOneStep(a, adamA);
            AdamW adamB = adamW(b, parallel);
            float[] m = adamB.state().get(0);
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            cp.restoreOptimizer(adamB, b.parameters()); // once for the JIT and class loading
            long before = threads.getCurrentThreadAllocatedBytes();
            cp.restoreOptimizer(adamB, b.parameters());
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            long state = 2 * 4L * m.length;
            // the file's bytes pass through I/O buffers of at most 256 KiB (garbage as they go); a copy is another
            // state's worth, held until the copy into the optimizer
            assertTrue(allocated < state * 3 / 2, "restoring " + state + " bytes of AdamW state allocated "
                    + allocated + " bytes");
            assertSame(m, adamB.state().get(0), "the same buffer, read in place");
            for (int i = 0; i < adamA.state().size(); i++) {
                assertArrayEquals(adamA.state().get(i), adamB.state().get(i));
            }
        }
    }

    private static List<String> files(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void theLastTwoCheckpointsAreKept() throws IOException {
        Gpt a = new Gpt(SHAPE, 7);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(1, 0, 0), Map.of());
            assertEquals(List.of("checkpoint.json", "model-00000001.safetensors", "optimizer-00000001.safetensors"),
                    files(tmp));
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(2, 0, 0), Map.of());
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(3, 0, 0), Map.of());
        }
        assertEquals(List.of("checkpoint.json", "checkpoint.previous.json", "model-00000002.safetensors",
                "model-00000003.safetensors", "optimizer-00000002.safetensors", "optimizer-00000003.safetensors"),
                files(tmp));
        Checkpoint cp = Checkpoint.load(tmp);
        assertEquals(3, cp.state().step());
        assertEquals(List.of(), cp.notes());
    }

    @Test
    void aDamagedNewestCheckpointFallsBackToThePreviousOneSayingSo() throws IOException {
        Gpt a = new Gpt(SHAPE, 7);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(1, 0, 4), Map.of());
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(2, 0, 8), Map.of());
        }
        Path newest = tmp.resolve("optimizer-00000002.safetensors");
        byte[] good = Files.readAllBytes(newest);
        byte[] flipped = good.clone();
        flipped[flipped.length - 1] ^= 1;
        Files.write(newest, flipped);
        Checkpoint cp = Checkpoint.load(tmp);
        assertEquals(new TrainerState(1, 0, 4), cp.state());
        assertEquals(1, cp.notes().size());
        assertTrue(cp.notes().get(0).contains("optimizer-00000002.safetensors: corrupt: SHA-256 differs")
                && cp.notes().get(0).contains("using the previous one, at step 1"), cp.notes().get(0));

        Files.write(newest, java.util.Arrays.copyOf(good, good.length / 2));
        assertTrue(Checkpoint.load(tmp).notes().get(0).contains("truncated"), "truncated newest");

        Path older = tmp.resolve("model-00000001.safetensors");
        Files.write(older, java.util.Arrays.copyOf(Files.readAllBytes(older), 100));
        CheckpointException both = assertThrows(CheckpointException.class, () -> Checkpoint.load(tmp));
        assertTrue(both.getMessage().contains("optimizer-00000002.safetensors: truncated")
                && both.getMessage().contains("so is the previous checkpoint")
                && both.getMessage().contains("model-00000001.safetensors: truncated"), both.getMessage());
    }

    /**
     * A crash at any point of a save — simulated by failing after each file the save reports complete — leaves a
     * checkpoint that loads: the one before, or the new one; never a mix, never none.
     */
    @Test
    void aSaveInterruptedAtAnyPointLeavesAValidCheckpoint() throws IOException {
        Gpt a = new Gpt(SHAPE, 7);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            java.util.Arrays.fill(a.parameters().grads(), 0.25f);
            Checkpoint.Metadata meta = new Checkpoint.Metadata(Map.of(), null);
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(1, 0, 4), meta);
            List<String> phases = new java.util.ArrayList<>();
            Checkpoint.save(tmp.resolve("probe"), a.parameters(), adam, new TrainerState(1, 0, 4, 6, 1.5, 12), meta,
                    f -> phases.add(f.getFileName().toString()));
            assertEquals(List.of("model-00000001-000006.safetensors.tmp", "optimizer-00000001-000006.safetensors.tmp",
                    "grads-00000001-000006.safetensors.tmp", "checkpoint.json.tmp"), phases);
            TrainerState before = new TrainerState(1, 0, 4);
            long step = 1;
            for (int crashAt = 0; crashAt <= 5; crashAt++) {
                TrainerState next = new TrainerState(++step, 0, 8, 6, 0.1 * step, 3 * step);
                int[] seen = {0};
                int at = crashAt;
                try {
                    Checkpoint.save(tmp, a.parameters(), adam, next, meta, f -> {
                        if (seen[0]++ == at) {
                            throw new IOException("crash");
                        }
                    });
                } catch (EnvironmentException e) { // the save's own files removed, reported as a fault of the disk
                    assertEquals("crash", e.getCause().getMessage());
                }
                Checkpoint cp = Checkpoint.load(tmp);
                boolean saved = seen[0] <= at; // the save ran to the end before reaching the crash point
                assertEquals(saved ? next : before, cp.state(), "crash after file " + at);
                if (at == 4) { // newest renamed to previous, new sidecar not yet in place: the fallback says so
                    assertTrue(cp.notes().get(0).contains("is missing (a save was interrupted)"), cp.notes().toString());
                }
                before = cp.state();
            }
        }
    }

    @Test
    void aCheckpointInsideAWindowHoldsItsGradientSumsAndExactLossSum() throws IOException {
        Gpt a = new Gpt(SHAPE, 7);
        Gpt b = new Gpt(SHAPE, 8);
        float[] g = a.parameters().grads();
        for (int i = 0; i < a.parameters().gradSize(); i++) {
            g[i] = (float) Math.sin(i) * 1e-3f;
        }
        double lossSum = Math.PI * 1e5 + Math.ulp(Math.PI * 1e5);
        TrainerState open = new TrainerState(4, 1, 16, 24, lossSum, 96);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            Checkpoint.save(tmp, a.parameters(), adam, open, Map.of());
        }
        assertTrue(files(tmp).contains("grads-00000004-000024.safetensors"), files(tmp).toString());
        Checkpoint cp = Checkpoint.load(tmp);
        assertEquals(open, cp.state());
        assertEquals(Double.doubleToRawLongBits(lossSum), Double.doubleToRawLongBits(cp.state().windowLossSum()));
        cp.restoreGradients(b.parameters());
        for (int i = 0; i < a.parameters().gradSize(); i++) {
            assertEquals(Float.floatToRawIntBits(g[i]), Float.floatToRawIntBits(b.parameters().grads()[i]), "grad " + i);
        }
    }

    @Test
    void batchNormRunningStatisticsAreSavedBesideTheWeights() throws IOException {
        Mlp a = new Mlp(new MlpConfig(4, List.of(8), 3, NormKind.BATCH, 1, 0f, 1));
        Mlp b = new Mlp(new MlpConfig(4, List.of(8), 3, NormKind.BATCH, 1, 0f, 2));
        Map<String, float[]> stats = a.parameters().buffers();
        assertEquals(List.of("layers.0.norm.running_mean", "layers.0.norm.running_var"), List.copyOf(stats.keySet()));
        for (float[] v : stats.values()) {
            for (int i = 0; i < v.length; i++) {
                v[i] = 0.5f + i;
            }
        }
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(1, 0, 0), Map.of());
        }
        Checkpoint.load(tmp).restoreWeights(b.parameters());
        for (String name : stats.keySet()) {
            assertArrayEquals(stats.get(name), b.parameters().buffers().get(name), name);
        }
    }

    @Test
    void anotherSidecarKeepsItsFilesWhileTheNewestRotates() throws IOException {
        Gpt a = new Gpt(SHAPE, 7);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            Checkpoint.Metadata meta = new Checkpoint.Metadata(Map.of(), null);
            Checkpoint.saveAs(tmp, "best.json", a.parameters(), adam, new TrainerState(1, 0, 0), meta);
            for (long s = 2; s <= 4; s++) {
                Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(s, 0, 0), meta);
            }
            assertThrows(IllegalArgumentException.class, () -> Checkpoint.saveAs(tmp, "checkpoint.json",
                    a.parameters(), adam, new TrainerState(1, 0, 0), meta));
        }
        assertEquals(1, Checkpoint.load(tmp, "best.json").state().step());
        assertEquals(4, Checkpoint.load(tmp).state().step());
        assertFalse(files(tmp).contains("model-00000002.safetensors"), files(tmp).toString());
    }

    @Test
    void optimizerStateOfVersionTwoFlatBuffersIsStillRead() throws Exception {
        Gpt a = new Gpt(SHAPE, 7);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            java.util.Arrays.fill(a.parameters().grads(), 0.25f);
            adam.step(0.01f);
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(1, 0, 4), Map.of());
            // rewrite it as version 2 wrote it: each buffer flat as adamw.<i>
            Path opt = Checkpoint.load(tmp).optimizerFile();
            int[] flat = {a.parameters().size()};
            SafeTensors.write(opt, Map.of(), List.of(new SafeTensors.Entry("adamw.0", flat, adam.state().get(0), 0, false),
                    new SafeTensors.Entry("adamw.1", flat, adam.state().get(1), 0, false)));
            String sha = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(Files.readAllBytes(opt)));
            Path sidecar = tmp.resolve(Checkpoint.SIDECAR);
            String json = Files.readString(sidecar).replace("\"version\": 3", "\"version\": 2")
                    .replaceFirst("(\"optimizer_file\": \\{[^}]*\"bytes\": )\\d+(, \"sha256\": \")[0-9a-f]+",
                            "$1" + Files.size(opt) + "$2" + sha);
            Files.writeString(sidecar, json);
            AdamW restored = new AdamW(new Gpt(SHAPE, 8).parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            Checkpoint.load(tmp).restoreOptimizer(restored, a.parameters());
            assertArrayEquals(adam.state().get(0), restored.state().get(0));
            assertArrayEquals(adam.state().get(1), restored.state().get(1));
        }
    }
}
