package io.accrue.train;

import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.optim.AdamW;
import io.accrue.tensor.Parallel;
import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Importing Hugging Face GPT-2 directories in their variants (prefix or not, tied head and mask buffers present,
 * sharded, F16 and BF16), refusing what cannot be reproduced with the field or tensor named, and a GPT checkpoint's
 * directory as a Hugging Face one with its optimizer state per parameter.
 */
class HuggingFaceGpt2Test {
    private static Path fixture;
    private static String config;
    /** The fixture's weights by parameter name, in Hugging Face's file layout. */
    private static Map<String, Tensor> weights;

    @TempDir
    Path tmp;

    /** A tensor of a safetensors file: name, shape, values. */
    private record Tensor(String name, int[] shape, float[] values) {
        Tensor renamed(String n) {
            return new Tensor(n, shape, values);
        }
    }

    @BeforeAll
    static void readFixture() throws Exception {
        fixture = HuggingFaceGpt2GoldenTest.fixtureDir();
        config = Files.readString(fixture.resolve(HuggingFaceGpt2.CONFIG));
        Path file = fixture.resolve(HuggingFaceGpt2.WEIGHTS);
        SafeTensors.Header h = SafeTensors.header(file);
        weights = new LinkedHashMap<>();
        for (SafeTensors.Stored s : h.tensors()) {
            float[] v = new float[(int) ((s.end() - s.begin()) / Float.BYTES)];
            SafeTensors.read(file, h, s, new SafeTensors.Entry(s.name(), s.shape(), v, 0, false));
            weights.put(s.name().substring("transformer.".length()), new Tensor(s.name(), s.shape(), v));
        }
    }

    private static Gpt imported(Path dir) {
        HuggingFaceGpt2 hf = HuggingFaceGpt2.open(dir);
        Gpt gpt = new Gpt(hf.config(), 3);
        hf.restore(gpt.parameters());
        return gpt;
    }

    /** A model directory with {@code configJson} and one weights file of {@code tensors} in {@code dtype}. */
    private Path dir(String configJson, List<Tensor> tensors, String dtype) throws IOException {
        Path d = Files.createDirectories(tmp.resolve("m" + System.nanoTime()));
        Files.writeString(d.resolve(HuggingFaceGpt2.CONFIG), configJson);
        write(d.resolve(HuggingFaceGpt2.WEIGHTS), tensors, dtype);
        return d;
    }

    private Path dir(List<Tensor> tensors) throws IOException {
        return dir(config, tensors, "F32");
    }

    private static List<Tensor> renamed(Function<String, String> name) {
        return weights.entrySet().stream().map(e -> e.getValue().renamed(name.apply(e.getKey()))).toList();
    }

    /** A safetensors file as any writer might produce it, in F32, F16 or BF16. */
    private static void write(Path file, List<Tensor> tensors, String dtype) throws IOException {
        int width = dtype.equals("F32") ? 4 : 2;
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long at = 0;
        for (Tensor t : tensors) {
            long bytes = (long) t.values().length * width;
            json.append(",\"").append(t.name()).append("\":{\"dtype\":\"").append(dtype).append("\",\"shape\":")
                    .append(java.util.Arrays.toString(t.shape()).replace(" ", "")).append(",\"data_offsets\":[")
                    .append(at).append(',').append(at + bytes).append("]}");
            at += bytes;
        }
        byte[] header = json.append('}').toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate((int) (8 + header.length + at)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(header.length).put(header);
        for (Tensor t : tensors) {
            for (float v : t.values()) {
                switch (dtype) {
                    case "F32" -> b.putFloat(v);
                    case "F16" -> b.putShort(Float.floatToFloat16(v));
                    default -> b.putShort((short) (Float.floatToRawIntBits(v) >>> 16)); // BF16 by truncation
                }
            }
        }
        Files.write(file, b.array());
    }

    private static CheckpointException refused(Path dir) {
        return assertThrows(CheckpointException.class, () -> HuggingFaceGpt2.open(dir));
    }

    private static void assertOneLine(CheckpointException e, String... parts) {
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' in: " + e.getMessage());
        }
    }

    @Test
    void namesWithOrWithoutThePrefixAndTheTiedHeadAndMaskBuffersLoadTheSameWeights() throws IOException {
        float[] fromHf = imported(fixture).parameters().values();
        List<Tensor> plain = new ArrayList<>(renamed(n -> n));
        plain.add(weights.get("wte.weight").renamed("lm_head.weight"));
        plain.add(new Tensor("h.0.attn.bias", new int[] {1, 1, 64, 64}, new float[64 * 64]));
        plain.add(new Tensor("h.0.attn.masked_bias", new int[] {}, new float[1]));
        assertArrayEquals(fromHf, imported(dir(plain)).parameters().values());
        // Conv1D weights are (in, out) in the file, (out, in) in Accrue
        Gpt gpt = imported(fixture);
        float[] cAttn = weights.get("h.0.attn.c_attn.weight").values(); // (64, 192)
        assertEquals(cAttn[5 * 192 + 7], gpt.parameters().tensor("h.0.attn.c_attn.weight").get(7 * 64 + 5));
    }

    @Test
    void shardedWeightsLoadThroughTheirIndex() throws IOException {
        Path d = Files.createDirectories(tmp.resolve("sharded"));
        Files.writeString(d.resolve(HuggingFaceGpt2.CONFIG), config);
        List<Tensor> all = renamed(n -> "transformer." + n);
        List<Tensor> first = all.subList(0, 10);
        List<Tensor> second = all.subList(10, all.size());
        write(d.resolve("model-00001-of-00002.safetensors"), first, "F32");
        write(d.resolve("model-00002-of-00002.safetensors"), second, "F32");
        StringBuilder map = new StringBuilder();
        for (Tensor t : all) {
            map.append(map.isEmpty() ? "" : ",").append('"').append(t.name()).append("\":\"model-0000")
                    .append(first.contains(t) ? 1 : 2).append("-of-00002.safetensors\"");
        }
        Files.writeString(d.resolve(HuggingFaceGpt2.INDEX), "{\"metadata\":{},\"weight_map\":{" + map + "}}");
        assertArrayEquals(imported(fixture).parameters().values(), imported(d).parameters().values());
    }

    @ParameterizedTest
    @CsvSource({"F16", "BF16"})
    void halfPrecisionWeightsAreReadAsFloats(String dtype) throws IOException {
        Gpt gpt = imported(dir(config, renamed(n -> n), dtype));
        Tensor wte = weights.get("wte.weight");
        for (int i = 0; i < 100; i++) {
            float v = wte.values()[i];
            float want = dtype.equals("F16") ? Float.float16ToFloat(Float.floatToFloat16(v))
                    : Float.intBitsToFloat(Float.floatToRawIntBits(v) & 0xffff0000);
            assertEquals(want, gpt.parameters().tensor("wte.weight").get(i), dtype + " element " + i);
        }
    }

    @Test
    void aShorterContextCropsThePositionEmbeddings() {
        HuggingFaceGpt2 hf = HuggingFaceGpt2.open(fixture);
        Gpt gpt = new Gpt(hf.config().withContext(16), 1);
        hf.restore(gpt.parameters());
        float[] wpe = weights.get("wpe.weight").values();
        assertArrayEquals(java.util.Arrays.copyOf(wpe, 16 * 64), gpt.parameters().tensor("wpe.weight").toArray());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "\"model_type\": \"gpt2\"|\"model_type\": \"llama\"|model_type is \"llama\"",
            "\"activation_function\": \"gelu_new\"|\"activation_function\": \"gelu\"|activation_function is gelu",
            "\"activation_function\": \"gelu_new\"|\"activation_function\": \"relu\"|activation_function is relu",
            "\"n_inner\": null|\"n_inner\": 100|n_inner is 100",
            "\"layer_norm_epsilon\": 1e-05|\"layer_norm_epsilon\": 1e-06|layer_norm_epsilon is 1.0E-6",
            "\"scale_attn_by_inverse_layer_idx\": false|\"scale_attn_by_inverse_layer_idx\": true|"
                    + "scale_attn_by_inverse_layer_idx is true",
            "\"reorder_and_upcast_attn\": false|\"reorder_and_upcast_attn\": true|reorder_and_upcast_attn is true",
            "\"add_cross_attention\": false|\"add_cross_attention\": true|add_cross_attention is true",
            "\"scale_attn_weights\": true|\"scale_attn_weights\": false|scale_attn_weights is false",
            "\"tie_word_embeddings\": true|\"tie_word_embeddings\": false|tie_word_embeddings is false",
            "\"n_head\": 4|\"n_head\": 5|n_embd 64 is not divisible by n_head 5"})
    void aConfigAccrueCannotReproduceIsRefusedWithTheFieldNamed(String from, String to, String message)
            throws IOException {
        assertTrue(config.contains(from), from);
        Path d = dir(config.replace(from, to), renamed(n -> n), "F32");
        assertOneLine(refused(d), d.resolve("config.json").toString(), message);
    }

    @Test
    void missingFilesAreRefusedWithTheFix() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertOneLine(refused(empty), "has no config.json", "save_pretrained");
        Files.writeString(empty.resolve(HuggingFaceGpt2.CONFIG), config);
        assertOneLine(refused(empty), "has no model.safetensors or model.safetensors.index.json");
        Files.writeString(empty.resolve("pytorch_model.bin"), "pickle");
        assertOneLine(refused(empty), "pytorch_model.bin", "safe_serialization=True");
        assertOneLine(refused(tmp.resolve("nowhere")), "no such directory");
    }

    @Test
    void missingExtraAndMisshapenTensorsAreRefusedByName() throws IOException {
        List<Tensor> missing = renamed(n -> n).stream().filter(t -> !t.name().equals("wpe.weight")).toList();
        assertOneLine(refused(dir(missing)), "has no tensor 'wpe.weight'");
        List<Tensor> extra = new ArrayList<>(renamed(n -> n));
        extra.add(new Tensor("h.2.ln_1.weight", new int[] {64}, new float[64]));
        assertOneLine(refused(dir(extra)), "holds tensor 'h.2.ln_1.weight'");
        Path wrongVocab = dir(config.replace("\"vocab_size\": 512", "\"vocab_size\": 500"), renamed(n -> n), "F32");
        assertOneLine(refused(wrongVocab), "tensor 'wte.weight' has shape [512, 64]", "gives [500, 64]");
        List<Tensor> twice = new ArrayList<>(renamed(n -> n));
        twice.add(weights.get("ln_f.bias"));
        assertOneLine(refused(dir(twice)), "holds 'ln_f.bias' twice");
    }

    @Test
    void aDamagedHeaderIsRefused() throws IOException {
        Path d = dir(renamed(n -> n));
        Path file = d.resolve(HuggingFaceGpt2.WEIGHTS);
        byte[] bytes = Files.readAllBytes(file);
        bytes[8] = '#'; // the header's opening brace
        Files.write(file, bytes);
        assertOneLine(refused(d), file.toString(), "not a safetensors file");
        Files.write(file, java.util.Arrays.copyOf(bytes, 100));
        assertOneLine(refused(d), "truncated");
    }

    @Test
    void aGptCheckpointDirectoryIsAHuggingFaceDirectoryWithOptimizerStatePerParameter() throws IOException {
        GptConfig shape = new GptConfig(2, 2, 16, 8, 40, 0.1f);
        Gpt gpt = new Gpt(shape, 5);
        ParameterStore store = gpt.parameters();
        try (Parallel parallel = new Parallel(1)) {
            AdamW adam = new AdamW(store, parallel, 0.9f, 0.999f, 1e-8f, 0.1f);
            for (int i = 0; i < store.size(); i++) {
                store.grads()[i] = (i % 7 - 3) * 0.01f;
            }
            adam.step(1e-3f);
            Checkpoint.save(tmp, store, adam, new TrainerState(1, 0, 8),
                    new Checkpoint.Metadata(Map.of(HuggingFaceGpt2.TOKENIZER_KEY, "bytes"), null, shape));
            Checkpoint cp = Checkpoint.load(tmp);
            assertArrayEquals(Files.readAllBytes(cp.modelFile()), Files.readAllBytes(tmp.resolve("model.safetensors")));
            HuggingFaceGpt2 hf = HuggingFaceGpt2.open(tmp);
            assertEquals(shape.withDropout(0f), hf.config());
            assertEquals("bytes", hf.tokenizer());
            Gpt back = new Gpt(hf.config(), 9);
            hf.restore(back.parameters());
            assertArrayEquals(store.values(), back.parameters().values());

            SafeTensors.Header opt = SafeTensors.header(cp.optimizerFile());
            assertEquals(2 * store.parameters().size(), opt.tensors().size());
            for (Parameter p : store.parameters()) {
                for (String state : List.of("exp_avg", "exp_avg_sq")) {
                    SafeTensors.Stored s = opt.tensor(state + "." + p.name());
                    int[] shapeInFile = p.storedTransposed() ? new int[] {p.value().dim(1), p.value().dim(0)}
                            : p.value().shape();
                    assertArrayEquals(shapeInFile, s.shape(), s.name());
                }
            }
            AdamW restored = new AdamW(back.parameters(), parallel, 0.9f, 0.999f, 1e-8f, 0.1f);
            cp.restoreOptimizer(restored, back.parameters());
            assertArrayEquals(adam.state().get(0), restored.state().get(0));
            assertArrayEquals(adam.state().get(1), restored.state().get(1));
        }
    }
}
