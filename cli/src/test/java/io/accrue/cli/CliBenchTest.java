package io.accrue.cli;

import io.accrue.models.GptConfig;
import io.accrue.train.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code accrue bench}: one JSON line with the PyTorch reference's fields. */
class CliBenchTest {
    @TempDir
    Path tmp;

    private static final List<String> FIELDS = List.of("impl", "config", "params", "B", "K", "T", "threads",
            "concurrent_micro_batches", "sec_per_optimizer_step", "best_step_sec", "tokens_per_sec", "mfu", "gflops", "peak_gflops", "peak_rss_mb",
            "arena_high_water_mb", "allocated_mb_per_step");

    @Test
    void warmsUpUntilTheJitHasCompiledTheStepByDefault() {
        CliRun r = CliRun.of("bench", "--model", "adder", "--micro-batch", "1", "--accum", "1", "--steps", "3",
                "--threads", "1", "-v");
        assertEquals(0, r.code(), r.err());
        Map<?, ?> j = (Map<?, ?>) Json.parse(r.out().strip());
        long warmup = (Long) j.get("warmup_steps");
        assertTrue(warmup >= 5, "at least five quiet steps: " + warmup);
        assertEquals(warmup + 3, r.err().lines().filter(l -> l.startsWith("step ")).count(), r.err());
        assertEquals(3, ((List<?>) j.get("step_times")).size());
        assertEquals(1L, ((Map<?, ?>) Json.parse(CliRun.of("bench", "--model", "adder", "--micro-batch", "1",
                "--accum", "1", "--steps", "1", "--warmup", "1", "--threads", "1").out().strip())).get("warmup_steps"));
        CliRun bad = CliRun.of("bench", "--model", "adder", "--warmup", "soon");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--warmup must be auto or a number of steps ≥ 0, got soon"), bad.err());
    }

    @Test
    void printsOneJsonLineWithTheReferenceFields() {
        CliRun r = CliRun.of("bench", "--model", "adder", "--micro-batch", "2", "--accum", "2", "--steps", "2",
                "--warmup", "1", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals(1, lines.size(), r.out());
        Map<?, ?> j = (Map<?, ?>) Json.parse(lines.getFirst());
        for (String f : FIELDS) {
            assertTrue(j.containsKey(f), f + " in " + lines.getFirst());
        }
        assertEquals("accrue", j.get("impl"));
        assertEquals("adder", j.get("config"));
        assertEquals(new GptConfig(2, 4, 128, 16, 12, 0f).parameterCount(), j.get("params"));
        assertEquals(2L, j.get("B"));
        assertEquals(2L, j.get("K"));
        assertEquals(16L, j.get("T"));
        assertEquals(1L, j.get("threads"));
        assertEquals(1L, j.get("concurrent_micro_batches"));
        for (String f : List.of("sec_per_optimizer_step", "best_step_sec", "tokens_per_sec", "mfu", "gflops",
                "peak_gflops", "arena_high_water_mb")) {
            assertInstanceOf(Number.class, j.get(f), f);
            assertTrue(((Number) j.get(f)).doubleValue() > 0, f + " = " + j.get(f));
        }
        double gflops = ((Number) j.get("gflops")).doubleValue();
        double peak = ((Number) j.get("peak_gflops")).doubleValue();
        assertEquals(gflops / peak, ((Number) j.get("mfu")).doubleValue(), 1e-3, "MFU against the measured peak");
        double sec = ((Number) j.get("sec_per_optimizer_step")).doubleValue();
        double tps = ((Number) j.get("tokens_per_sec")).doubleValue();
        assertEquals(2 * 2 * 16 / sec, tps, tps * 0.01, "tokens/s = B·K·T / median step");
        assertTrue(((Number) j.get("best_step_sec")).doubleValue() <= sec);
        assertEquals(2, ((List<?>) j.get("step_times")).size());
        assertTrue(r.err().isEmpty(), r.err());
    }

    /** Two micro-batches at once: each has its arena, as planned, and the JSON says how many ran at once. */
    @Test
    void concurrentMicroBatchesAreReported() {
        CliRun r = CliRun.of("bench", "--model", "adder", "--micro-batch", "2", "--accum", "3", "--steps", "1",
                "--warmup", "0", "--threads", "2", "--concurrent", "2");
        assertEquals(0, r.code(), r.err());
        Map<?, ?> j = (Map<?, ?>) Json.parse(r.out().strip());
        assertEquals(2L, j.get("concurrent_micro_batches"));
        assertEquals(((Number) j.get("predicted_arena_mb")).doubleValue(),
                ((Number) j.get("arena_high_water_mb")).doubleValue(), 0.05);
    }

    @Test
    void badCountsAreOneLineErrors() {
        CliRun r = CliRun.of("bench", "--model", "adder", "--steps", "0");
        assertEquals(2, r.code());
        assertEquals("accrue: --steps must be a positive integer, got 0", r.err().strip());
        CliRun c = CliRun.of("bench", "--model", "adder", "--threads", "2", "--concurrent", "3");
        assertEquals(2, c.code());
        assertEquals("accrue: --concurrent must be in [1, threads = 2], got 3", c.err().strip());
        CliRun m = CliRun.of("bench", "--model", "huge");
        assertEquals(2, m.code());
        assertTrue(m.err().startsWith("accrue: --model: unknown model 'huge'"), m.err());
    }

    @Test
    void runsTwoMicroBatchesAtOnceWhereThatPaysAndPlansTheirArenas() throws IOException {
        // ~56 MB of activations a micro-batch of 2: within the range where lanes pay (MicroBatchLanes)
        Path model = Files.writeString(tmp.resolve("m.json"),
                "{\"layers\":4,\"heads\":4,\"width\":256,\"context\":256,\"vocab\":256}");
        String[] args = {"bench", "--model", model.toString(), "-b", "2", "-k", "4", "--steps", "1", "--warmup", "0",
                "--threads", "2"};
        CliRun auto = CliRun.of(args);
        assertEquals(0, auto.code(), auto.err());
        Map<?, ?> j = (Map<?, ?>) Json.parse(auto.out().strip());
        assertEquals(2L, j.get("concurrent_micro_batches"), "auto: " + auto.out());
        assertEquals(((Number) j.get("predicted_arena_mb")).doubleValue(),
                ((Number) j.get("arena_high_water_mb")).doubleValue(), 1e-9, "the plan counts both lanes' arenas");
        String[] one = java.util.Arrays.copyOf(args, args.length + 2);
        one[args.length] = "--concurrent";
        one[args.length + 1] = "1";
        Map<?, ?> j1 = (Map<?, ?>) Json.parse(CliRun.of(one).out().strip());
        assertEquals(1L, j1.get("concurrent_micro_batches"));
        assertTrue(((Number) j1.get("predicted_arena_mb")).doubleValue()
                < ((Number) j.get("predicted_arena_mb")).doubleValue(), "one lane, one micro-batch of activations");
        assertEquals(1L, ((Map<?, ?>) Json.parse(CliRun.of("bench", "--model", "adder", "-b", "2", "-k", "4",
                "--steps", "1", "--warmup", "0", "--threads", "2").out().strip())).get("concurrent_micro_batches"),
                "the adder's kernels are too small for lanes to pay");
    }
}
