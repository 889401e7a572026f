package io.accrue.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code accrue sample} on a byte-level text model of context 16: the sampling options, seeded runs, the stop at the
 * context, and bad options as one-line errors with exit code 2.
 */
class CliSampleTest {
    @TempDir
    static Path tmp;
    private static Path run;

    @BeforeAll
    static void train() throws IOException {
        Path text = Files.writeString(tmp.resolve("t.txt"), "the quick brown fox jumps over the lazy dog. ".repeat(20));
        run = tmp.resolve("run");
        CliRun r = CliRun.of("train", "--data", text.toString(), "--model", "tiny", "--context", "16", "-b", "4",
                "--steps", "2", "--threads", "1", "--out", run.toString());
        assertEquals(0, r.code(), r.err());
    }

    private static CliRun sample(String... extra) {
        List<String> args = CliRun.withOptions(List.of("sample", "--checkpoint", run.toString(), "--prompt", "the ",
                "--tokens", "6"), extra);
        return CliRun.of(args.toArray(String[]::new));
    }

    private static CliRun ok(String... extra) {
        CliRun r = sample(extra);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("the "), r.out());
        return r;
    }

    @Test
    void seededSamplingRepeatsAndReportsItsSpeed() {
        CliRun a = ok("--temperature", "1.2", "--top-k", "40", "--top-p", "0.9", "--seed", "7");
        CliRun b = ok("--temperature", "1.2", "--top-k", "40", "--top-p", "0.9", "--seed", "7", "--tokenizer",
                "bytes");
        assertEquals(a.out(), b.out(), "the same seed and options, the run's tokenizer named or not");
        assertTrue(a.err().matches("(?s).*accrue: 6 tokens in [0-9.]+ s \\([0-9.]+ tokens/s; prompt 4 tokens\\)\\s*"),
                a.err());
        assertEquals(ok().out(), ok("--temperature", "1", "--top-k", "1", "--seed", "3").out(), "top-k 1 is greedy");
    }

    @Test
    void stopsAtTheContextAndSaysSo() {
        CliRun r = ok("--tokens", "50");
        // 16 positions: a prompt of 4 tokens gets 16 - 4 + 1
        assertTrue(r.err().contains("accrue: stopped after 13 of 50 tokens: the sequence reached the model's context "
                + "of 16"), r.err());
        CliRun longPrompt = ok("--prompt", "the quick brown fox jumps", "--tokens", "2");
        assertTrue(longPrompt.err().contains("the prompt's 25 tokens exceed the model's context of 16; continuing its "
                + "last 16"), longPrompt.err());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--top-p|1.5|accrue: --top-p must be in (0, 1] (1: no limit), got 1.5",
            "--top-p|0|accrue: --top-p must be in (0, 1] (1: no limit), got 0.0",
            "--temperature|-1|accrue: --temperature must be a number ≥ 0 (0: greedy), got -1.0",
            "--top-k|-2|accrue: --top-k must be ≥ 0 (0: no limit), got -2"})
    void badOptionsAreOneLineErrors(String option, String value, String message) {
        CliRun r = sample(option, value);
        assertEquals(2, r.code(), r.err());
        assertEquals(message, r.err().strip());
        assertEquals("", r.out());
    }

    @Test
    void aTokenizerLargerThanTheModelsVocabularyIsRefused() {
        CliRun r = sample("--tokenizer", "gpt2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().strip().startsWith("accrue: --tokenizer gpt2 has 50,257 tokens, more than the vocabulary "
                + "of 256 of --checkpoint "), r.err());
        assertTrue(r.err().strip().endsWith("; give the tokenizer the model was trained with"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertEquals("", r.out());
    }
}
