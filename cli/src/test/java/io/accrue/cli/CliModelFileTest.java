package io.accrue.cli;

import io.accrue.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --model FILE.json}: a model shape from a JSON file; bad files are one-line errors with exit code 2. */
class CliModelFileTest {
    @TempDir
    Path tmp;

    private Path file(String json) throws IOException {
        return Files.writeString(tmp.resolve("model-" + System.nanoTime() + ".json"), json);
    }

    private CliRun train(Path model, String... more) {
        String[] base = {"train", "--model", model.toString(), "--train-size", "64", "--eval-size", "0", "-b", "4",
                "-k", "1", "--steps", "2", "--warmup", "1", "--threads", "1", "--out", tmp.resolve("out").toString()};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return CliRun.of(all);
    }

    private void bad(Path model, String expected) {
        CliRun r = train(model);
        assertEquals(2, r.code(), r.err() + r.out());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("accrue: --model " + model + ": ") && err.contains(expected), err);
        assertFalse(Files.exists(tmp.resolve("out")), "nothing written");
    }

    @Test
    void trainsTheShapeOfAModelFile() throws IOException {
        Path f = file("{\"layers\":1,\"heads\":2,\"width\":16,\"context\":64,\"vocab\":256,\"dropout\":0.1}");
        CliRun r = train(f);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("L=1 NH=2 C=16 T=11 V=12"), "vocabulary and context follow the data: " + r.out());
        Map<String, String> meta = Checkpoint.load(tmp.resolve("out/checkpoint")).metadata();
        assertEquals("16", meta.get("width"));
        assertEquals("0.1", meta.get("dropout"), "the file's dropout");
    }

    @Test
    void theFilesContextIsTheDefaultContextOfTextDataAndDropoutCanBeOverridden() throws IOException {
        Path text = Files.writeString(tmp.resolve("t.txt"), "abcdefghij".repeat(30));
        Path f = file("{\"layers\":1,\"heads\":1,\"width\":8,\"context\":8,\"dropout\":0.2}");
        CliRun r = train(f, "--data", text.toString(), "--dropout", "0");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("L=1 NH=1 C=8 T=8 V=256"), r.out());
        assertEquals("0.0", Checkpoint.load(tmp.resolve("out/checkpoint")).metadata().get("dropout"));
    }

    @Test
    void unknownKey() throws IOException {
        bad(file("{\"layers\":2,\"heads\":4,\"width\":128,\"depth\":3}"),
                "unknown key 'depth'; use layers, heads, width, context, vocab, dropout");
    }

    @Test
    void missingFile() {
        bad(tmp.resolve("nope.json"), "no such file");
    }

    @Test
    void malformedJson() throws IOException {
        bad(file("{\"layers\":2,\"heads\":4,"), "malformed JSON");
        bad(file("[2, 4, 128]"), "not a JSON object");
    }

    @Test
    void missingOrWrongValues() throws IOException {
        bad(file("{\"layers\":2,\"heads\":4}"), "missing key 'width'");
        bad(file("{\"layers\":2.5,\"heads\":4,\"width\":128}"), "'layers' must be an integer, got 2.5");
        bad(file("{\"layers\":2,\"heads\":3,\"width\":128}"), "width 128 is not divisible by heads 3");
        bad(file("{\"layers\":2,\"heads\":4,\"width\":128,\"dropout\":1}"), "dropout must be in [0, 1), got 1.0");
    }
}
