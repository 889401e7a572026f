package io.accrue.train;

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

    @Test
    void roundTripRestoresWeightsOptimizerAndState() throws IOException {
        Gpt a = new Gpt(SHAPE, 7);
        Gpt b = new Gpt(SHAPE, 8);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adamA = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            java.util.Arrays.fill(a.parameters().grads(), 0.5f);
            adamA.step(0.01f);
            Checkpoint.save(tmp, a.parameters(), adamA, new TrainerState(1, 0, 16), Map.of());
            Checkpoint cp = Checkpoint.load(tmp);
            assertEquals(new TrainerState(1, 0, 16), cp.state());
            AdamW adamB = new AdamW(b.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            cp.restoreWeights(b.parameters());
            cp.restoreOptimizer(adamB);
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

    @Test
    void aNewCheckpointReplacesTheOldFilesOnlyAfterItsSidecar() throws IOException {
        Gpt a = new Gpt(SHAPE, 7);
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(a.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0f);
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(1, 0, 0), Map.of());
            Checkpoint.save(tmp, a.parameters(), adam, new TrainerState(2, 0, 0), Map.of());
        }
        try (var files = Files.list(tmp)) {
            assertEquals(List.of("checkpoint.json", "model-00000002.safetensors", "optimizer-00000002.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals(2, Checkpoint.load(tmp).state().step());
    }
}
