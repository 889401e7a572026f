package io.accrue.cli;

import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.optim.Sgd;
import io.accrue.tensor.Parallel;
import io.accrue.train.TrainerState;
import io.accrue.train.Checkpoint;
import io.accrue.train.HuggingFaceGpt2;
import io.accrue.train.SafeTensors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Import → fine-tune → export → sample with a GPT-2 that Hugging Face saved ({@code hf-gpt2-tiny}, V 512), and
 * bad input to {@code --init-from} and {@code export}: one line naming the problem and the fix, exit code 2, nothing
 * written.
 */
class CliHuggingFaceTest {
    @TempDir
    Path tmp;
    private Path hf;
    private Path text;

    @BeforeEach
    void setUp() throws Exception {
        hf = Files.createDirectories(tmp.resolve("hf"));
        Path fixture = Path.of(getClass().getResource("/hf-gpt2-tiny/config.json").toURI()).getParent();
        for (String f : List.of(HuggingFaceGpt2.CONFIG, HuggingFaceGpt2.WEIGHTS)) {
            Files.copy(fixture.resolve(f), hf.resolve(f));
        }
        text = Files.writeString(tmp.resolve("text.txt"), TestTexts.generated(20_000, 3));
    }

    private CliRun train(String... more) {
        List<String> args = CliRun.withOptions(List.of("train", "--init-from", hf.toString(), "--data",
                text.toString(), "--steps", "2", "-b", "2", "-k", "1", "--threads", "1", "--progress", "plain",
                "--out", tmp.resolve("run").toString()), more);
        return CliRun.of(args.toArray(String[]::new));
    }

    /** Tensor name (without {@code transformer.}) → shape, of a directory's weights file. */
    private static Map<String, List<Integer>> shapes(Path dir) {
        Map<String, List<Integer>> m = new TreeMap<>();
        for (SafeTensors.Stored s : SafeTensors.header(dir.resolve(HuggingFaceGpt2.WEIGHTS)).tensors()) {
            m.put(s.name().replaceFirst("^transformer\\.", ""), java.util.Arrays.stream(s.shape()).boxed().toList());
        }
        return m;
    }

    @Test
    void fineTunesAnImportedModelOnPreparedTextExportsItAndSamplesFromEach() throws IOException {
        Path prepared = tmp.resolve("prepared");
        assertEquals(0, CliRun.of("prepare", "--data", text.toString(), "--tokenizer", "bytes", "--out",
                prepared.toString()).code());
        CliRun r = train("--data", prepared.toString(), "--eval-tokens", "256");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("L=2 NH=4 C=64 T=64 V=512"), "the imported shape and vocabulary: " + r.out());

        Path exported = tmp.resolve("exported");
        CliRun ex = CliRun.of("export", "--checkpoint", tmp.resolve("run").toString(), "--out", exported.toString());
        assertEquals(0, ex.code(), ex.err());
        assertEquals(shapes(hf), shapes(exported), "the original's tensor names and shapes");
        assertEquals(28, shapes(exported).size());

        // loads back into Accrue: the checkpoint's weights, changed by the fine-tuning
        HuggingFaceGpt2 back = HuggingFaceGpt2.open(exported);
        assertEquals("bytes", back.tokenizer());
        Gpt fromExport = new Gpt(back.config(), 1);
        back.restore(fromExport.parameters());
        Gpt fromRun = new Gpt(back.config(), 2);
        Checkpoint.load(tmp.resolve("run/checkpoint")).restoreWeights(fromRun.parameters());
        assertArrayEquals(fromRun.parameters().values(), fromExport.parameters().values());
        Gpt original = new Gpt(back.config(), 3);
        HuggingFaceGpt2.open(hf).restore(original.parameters());
        assertFalse(java.util.Arrays.equals(original.parameters().values(), fromRun.parameters().values()),
                "fine-tuning changed the weights");

        for (Path dir : List.of(tmp.resolve("run"), exported)) {
            CliRun s = CliRun.of("sample", "--checkpoint", dir.toString(), "--prompt", "the ", "--tokens", "5");
            assertEquals(0, s.code(), dir + ": " + s.err());
            assertTrue(s.out().startsWith("the "), s.out());
        }
        CliRun s = CliRun.of("sample", "--checkpoint", hf.toString(), "--prompt", "the ", "--tokens", "5",
                "--tokenizer", "bytes");
        assertEquals(0, s.code(), s.err());
        bad(CliRun.of("sample", "--checkpoint", hf.toString(), "--prompt", "the "), "give --tokenizer");
        bad(CliRun.of("sample", "--checkpoint", tmp.toString(), "--prompt", "the "), "neither an Accrue checkpoint");
    }

    @Test
    void aVocabularyOfGpt2sSizeTrainsAndSamplesWithGpt2sTokenizer() throws IOException {
        GptConfig shape = new GptConfig(1, 2, 8, 16, 50_257, 0f);
        Gpt gpt = new Gpt(shape, 4);
        Path dir = tmp.resolve("gpt2-vocab");
        try (Parallel parallel = new Parallel(1)) {
            Checkpoint.save(dir, gpt.parameters(), new Sgd(gpt.parameters(), parallel, 0f, 0f),
                    new TrainerState(0, 0, 0), new Checkpoint.Metadata(Map.of(), null, shape));
        }
        Files.delete(dir.resolve(Checkpoint.SIDECAR)); // a plain Hugging Face directory: config.json + weights
        CliRun r = train("--init-from", dir.toString(), "--eval-tokens", "64", "--steps", "1");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("gpt2, V 50,257") && r.out().contains("V=50257"), r.out());
        CliRun s = CliRun.of("sample", "--checkpoint", dir.toString(), "--prompt", "Hello", "--tokens", "3");
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().startsWith("Hello"), s.out());
    }

    private static void bad(CliRun r, String expected) {
        assertEquals(2, r.code(), r.err() + r.out());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("accrue: ") && err.contains(expected), err);
    }

    private void badTrain(String expected, String... more) {
        bad(train(more), expected);
        assertFalse(Files.exists(tmp.resolve("run")), "nothing written");
    }

    @Test
    void badImportsAreOneLineWithExitCodeTwoAndWriteNothing() throws IOException {
        badTrain("no such directory", "--init-from", tmp.resolve("missing").toString());
        badTrain("has no config.json", "--init-from", tmp.toString());
        badTrain("drop --model", "--model", "tiny");
        badTrain("--context 128 exceeds the n_positions 64", "--context", "128");
        badTrain("vocabulary of 512 tokens, but the data's tokenizer gpt2 has 50,257", "--tokenizer", "gpt2");
        String config = Files.readString(hf.resolve(HuggingFaceGpt2.CONFIG));
        Files.writeString(hf.resolve(HuggingFaceGpt2.CONFIG), config.replace("\"gpt2\"", "\"llama\""));
        badTrain("model_type is \"llama\"");
        Files.writeString(hf.resolve(HuggingFaceGpt2.CONFIG), config.replace("\"n_layer\": 2", "\"n_layer\": 3"));
        badTrain("has no tensor 'h.2.ln_1.weight'");
        Files.writeString(hf.resolve(HuggingFaceGpt2.CONFIG), config);
        Path weights = hf.resolve(HuggingFaceGpt2.WEIGHTS);
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        badTrain("truncated");
        Files.delete(weights);
        badTrain("has no model.safetensors");
    }

    @Test
    void badExportsAreOneLineWithExitCodeTwo() throws IOException {
        Path out = tmp.resolve("out");
        bad(CliRun.of("export", "--checkpoint", tmp.resolve("missing").toString(), "--out", out.toString()),
                "no such checkpoint directory");
        assertFalse(Files.exists(out), "nothing written");
        assertEquals(0, train().code());
        Path file = Files.writeString(tmp.resolve("file"), "x");
        bad(CliRun.of("export", "--checkpoint", tmp.resolve("run").toString(), "--out", file.toString()),
                "is a file");
        bad(CliRun.of("export", "--checkpoint", tmp.resolve("run").toString(), "--out",
                tmp.resolve("run/checkpoint").toString()), "is a checkpoint directory");
    }
}
