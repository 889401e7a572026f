package io.accrue.run;

import io.accrue.data.AdditionTask;
import io.accrue.data.Dataset;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.train.TrainConfig;
import io.accrue.train.TrainResult;
import io.accrue.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's "library in five lines", compiled and run here; the README must show exactly these lines. */
class LibraryExampleTest {

    @Test
    void theTrainerOnADataset() {
        // README: trainer
        var task = new AdditionTask(3, 1337);                    // generated problems like "042+517=9550"
        Dataset<TokenBatch> dataset = task.trainingSet(10_000);  // or new SequenceDataset(yourSequences, T)
        var model = new Gpt(new GptConfig(2, 4, 128, task.seq(), AdditionTask.VOCABULARY.size(), 0f), 1337);
        var config = TrainConfig.builder().microBatch(8).effectiveBatch(64)   // K = 8 is derived
                .lr(1e-3).maxSteps(20).build();                   // warmup + cosine, clip 1.0: the CLI's defaults
        try (var trainer = new Trainer<>(config, model, dataset)) {
            TrainResult result = trainer.fit();
            // README: end
            assertEquals(20, result.steps());
            assertEquals(8, config.accumulationSteps());
            assertTrue(result.finalLoss() < 2.4, "learning: " + result.finalLoss());
        }
    }

    @Test
    void aWholeRun(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("book.txt"), "It was the best of times, it was the worst of times. ".repeat(200));
        Path dir = tmp;
        // README: run
        RunSpec spec = RunSpec.builder(TaskKind.TEXT).data(dir.resolve("book.txt")).model("tiny")
                .train(t -> t.microBatch(4).effectiveBatch(16).maxSteps(3)).out(dir.resolve("run")).build();
        RunResult result = Run.prepare(spec, null).execute(RunListener.NONE);
        // README: end
        assertEquals(3, result.steps());
        assertTrue(Files.isRegularFile(dir.resolve("run/checkpoint/checkpoint.json")));
        assertEquals(3, Files.readAllLines(dir.resolve("run/metrics.jsonl")).size());
        assertTrue(Files.readString(dir.resolve("run/results.json")).contains("\"final_loss\""));
    }

    @Test
    void theReadmeShowsTheseLines() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        for (String line : snippets(Files.readAllLines(Path.of("src/test/java/io/accrue/run/LibraryExampleTest.java")))) {
            assertTrue(readme.contains(line.strip()), "README lacks: " + line.strip());
        }
    }

    /** The lines between "// README: x" and "// README: end". */
    private static List<String> snippets(List<String> source) {
        List<String> out = new ArrayList<>();
        boolean in = false;
        for (String l : source) {
            if (l.strip().startsWith("// README: ")) {
                in = !l.strip().equals("// README: end");
            } else if (in) {
                out.add(l);
            }
        }
        assertTrue(out.size() >= 8, "snippets found: " + out.size());
        return out;
    }
}
