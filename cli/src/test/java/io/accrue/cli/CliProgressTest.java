package io.accrue.cli;

import io.accrue.train.Json;
import io.accrue.train.MemoryUsage;
import io.accrue.train.StepMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Progress output: plain lines when not a terminal, a bar that works anywhere; memory in metrics and results. */
class CliProgressTest {
    @TempDir
    Path tmp;

    private static final String PLAIN = "step \\d+/\\d+  loss \\d+\\.\\d{4}  lr \\d\\.\\d{2}e[-+]\\d{2}  [\\d,]+ tok/s  "
            + "(\\d+:)?\\d+:\\d{2}  eta ((\\d+:)?\\d+:\\d{2}|\\?)";

    private static List<String> tiny(Path out, String... more) {
        List<String> a = new java.util.ArrayList<>(List.of("train", "--train-size", "64", "--eval-size", "0", "-b", "4",
                "-n", "16", "--steps", "4", "--warmup", "1", "--threads", "1", "--out", out.toString()));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void plainLineFormat() {
        StepMetrics m = new StepMetrics(2, 0, 4, 16, 64, 2.43125, 3e-3, 1.5, false, 0.5, 1000);
        MemoryUsage mem = new MemoryUsage(1 << 20, 1 << 20, List.of(1L << 20, 1L << 20), 4000);
        String line = Progress.plainLine(new io.accrue.run.StepReport(m, mem, 80L << 20, 12345.4, 61, 9.6), 12,
                "tok");
        assertEquals("step 3/12  loss 2.4313  lr 3.00e-03  12,345 tok/s  1:01  eta 0:10", line);
        assertTrue(line.matches(PLAIN), line);
        assertEquals("512 B", io.accrue.run.Run.bytes(512));
        assertEquals("1.5 GiB", io.accrue.run.Run.bytes(3L << 29));
    }

    @Test
    void plainLinesComeEveryLogEveryStepsOrAboutEveryTenSecondsFirstAndLastAlways() throws IOException {
        List<Integer> every3 = shownSteps(CliRun.of(tiny(tmp.resolve("e3"), "--progress", "plain", "--log-every",
                "3").toArray(String[]::new)));
        assertEquals(List.of(1, 3, 4), every3);
        List<Integer> timed = shownSteps(CliRun.of(tiny(tmp.resolve("auto"), "--progress", "plain")
                .toArray(String[]::new)));
        assertEquals(List.of(1, 4), timed, "four quick steps: well under 10 seconds between the first and the last");
        assertEquals(4, Files.readAllLines(tmp.resolve("auto").resolve("metrics.jsonl")).size(), "every step logged");
        CliRun bad = CliRun.of(tiny(tmp.resolve("bad"), "--log-every", "-1").toArray(String[]::new));
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--log-every must be ≥ 0"), bad.err());
    }

    /** Plain lines of a simulated run of {@code steps} steps of {@code seconds} each, a perfect ETA. */
    private static List<Integer> simulatedLines(int steps, double seconds, long logEvery) {
        java.io.StringWriter text = new java.io.StringWriter();
        Progress p = Progress.create(Progress.Mode.PLAIN, new java.io.PrintWriter(text), steps, 0, "tok", logEvery);
        MemoryUsage mem = new MemoryUsage(1 << 20, 1 << 20, List.of(1L << 20, 1L << 20), 4000);
        for (int i = 0; i < steps; i++) {
            StepMetrics m = new StepMetrics(i, 0, 4, 16, 64, 2.0, 3e-3, 1.5, false, seconds, 1000);
            p.step(new io.accrue.run.StepReport(m, mem, 80L << 20, 100, (i + 1) * seconds,
                    (steps - i - 1) * seconds));
        }
        p.close();
        return text.toString().lines().filter(l -> l.matches(PLAIN))
                .map(l -> Integer.parseInt(l.substring(5, l.indexOf('/')))).toList();
    }

    @Test
    void theAutomaticCadenceIsTenSecondsAndAboutSixtyLinesForALongRun() {
        assertEquals(List.of(1, 21, 41, 61, 81, 100), simulatedLines(100, 0.5, 0), "every 10 s of training");
        List<Integer> hourLong = simulatedLines(3600, 1, 0);
        assertEquals(1, hourLong.getFirst());
        assertEquals(3600, hourLong.getLast());
        assertTrue(hourLong.size() <= 62, "an hour at 10 s would be 360 lines: " + hourLong.size());
        assertEquals(60, hourLong.get(2) - hourLong.get(1), "an hour over 60 lines: a minute apart");
        assertEquals(List.of(1, 7, 14, 20), simulatedLines(20, 100, 7), "--log-every: every N steps, and the last");
    }

    /** The optimizer steps the console showed a plain line for. */
    private static List<Integer> shownSteps(CliRun r) {
        assertEquals(0, r.code(), r.err());
        return r.out().lines().filter(l -> l.matches(PLAIN))
                .map(l -> Integer.parseInt(l.substring(5, l.indexOf('/')))).toList();
    }

    @Test
    void plainModeWritesOneLinePerStepWithMemoryAndTheMetricsFileHasBytes() throws IOException {
        Path out = tmp.resolve("plain");
        CliRun r = CliRun.of(tiny(out, "--progress", "plain", "--log-every", "1").toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<String> steps = r.out().lines().filter(l -> l.startsWith("step ")).toList();
        assertEquals(4, steps.size(), r.out());
        steps.forEach(l -> assertTrue(l.matches(PLAIN), l));
        assertTrue(steps.getLast().startsWith("step 4/4  "), steps.getLast());
        assertTrue(r.out().contains("memory: weights "), r.out());
        List<String> memory = r.out().lines().filter(l -> l.startsWith("memory after step ")).toList();
        assertTrue(memory.getFirst().matches("memory after step 1: training state \\d+\\.\\d MiB \\(activation arena "
                + "\\d+\\.\\d (KiB|MiB)\\), JVM heap in use \\d+\\.\\d MiB"), memory.getFirst());
        assertTrue(memory.size() < 4, "shown again only when it changes: " + memory);

        // every metrics line: strict JSON, the training state's total in bytes; its parts once, in results.json
        Map<?, ?> results = (Map<?, ?>) Json.parse(Files.readString(out.resolve("results.json")));
        long weights = (Long) results.get("weights_bytes");
        long grads = (Long) results.get("grads_bytes");
        List<?> state = (List<?>) results.get("optimizer_state_bytes");
        long params = (Long) state.get(0);
        assertEquals(List.of(params, params), state, "AdamW m and v, one float per parameter each");
        assertTrue(weights >= params, "the weights, and any of their packed copies held for a window");
        assertEquals(2 * params, (Long) results.get("optimizer_bytes"));
        assertTrue(grads > params, "the tied head's gradient slot");
        long arena = (Long) results.get("arena_high_water_bytes");
        assertTrue(arena > 0);
        assertEquals(weights + grads + 2 * params + arena, (Long) results.get("memory_total_bytes"));
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        for (String line : lines) {
            Map<?, ?> j = (Map<?, ?>) Json.parse(line);
            assertTrue((Long) j.get("memory_bytes") <= (Long) results.get("memory_total_bytes"));
            assertTrue((Long) j.get("heap_used_bytes") > 0);
            assertFalse(j.containsKey("weights_bytes"), "a constant: in results.json only");
        }
        assertEquals(results.get("memory_total_bytes"), ((Map<?, ?>) Json.parse(lines.getLast())).get("memory_bytes"));
        assertTrue(Files.readString(out.resolve("report.html")).contains("arena_high_water_bytes"));
    }

    @Test
    void csvAndTensorBoardLoggersGetEveryStep() throws IOException {
        Path out = tmp.resolve("loggers");
        Path csv = tmp.resolve("m.csv");
        Path tb = tmp.resolve("tb");
        CliRun r = CliRun.of(tiny(out, "--csv", csv.toString(), "--tensorboard", tb.toString())
                .toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(csv);
        assertEquals("step,epoch,loss,learning_rate,grad_norm,skipped,examples,count,step_time_s,tokens_per_s,"
                + "elapsed_s,memory_bytes,heap_used_bytes", rows.getFirst(), "--eval-size 0: no evaluation column");
        assertEquals(5, rows.size());
        List<String> jsonl = Files.readAllLines(out.resolve("metrics.jsonl"));
        for (int i = 0; i < 4; i++) {
            Map<?, ?> j = (Map<?, ?>) Json.parse(jsonl.get(i));
            String[] cells = rows.get(i + 1).split(",");
            assertEquals(j.get("step").toString(), cells[0]);
            assertEquals(j.get("loss").toString(), cells[2], "the same value in both");
        }
        try (var files = Files.list(tb)) {
            Path events = files.findFirst().orElseThrow();
            assertTrue(events.getFileName().toString().startsWith("events.out.tfevents."), events.toString());
            assertTrue(Files.size(events) > 4 * 11 * 20, "four steps of eleven scalars: " + Files.size(events));
        }
    }

    @Test
    void theBarFitsEightyColumnsByShorteningItsText() {
        var renderer = new Progress.FittedRenderer(true, () -> "?");
        String full = "k 8/8 loss 2.2341 lr 3.0e-03 1,038 tok/s";
        assertEquals("train  25% │██▊        │ 5/20 0:07<0:42 " + full, renderer.line("train", 5, 20, 7, "0:42", full, 80),
                "80 columns hold the whole line of a run of up to 9,999 steps");
        String line = renderer.line("train", 500, 2000, 7, "0:42", full, 80);
        assertEquals(80, line.length(), line);
        assertEquals("train  25% │██▌       │ 500/2000 0:07<0:42 k 8/8 loss 2.2341 lr 3.0e-03 1,038 t…", line,
                "the text shortened, not the bar");
        assertEquals("train  25% │" + "█".repeat(10) + "▌" + " ".repeat(31) + "│ 5/20 0:07<0:42 k 1/8",
                renderer.line("train", 5, 20, 7, "0:42", "k 1/8", 76), "a short text: the bar takes the room");
        assertEquals("train  50% [=====     ] 10/20 0:07<? k 1/8",
                new Progress.FittedRenderer(false, () -> "?").line("train", 10, 20, 7, "?", "k 1/8", 42),
                "ASCII off a terminal");
    }

    @Test
    void barModeWorksWhenTheOutputIsNotATerminal() throws IOException {
        Path out = tmp.resolve("bar");
        CliRun r = CliRun.of(tiny(out, "--progress", "bar").toArray(String[]::new));
        assertEquals(0, r.code(), r.err() + r.out());
        assertFalse(r.out().lines().anyMatch(l -> l.matches(PLAIN)), "no plain step lines: " + r.out());
        assertTrue(r.out().contains("\rtrain"), r.out());
        assertTrue(r.out().contains("4/4"), r.out());
        assertTrue(r.out().contains("done after 4 steps"), r.out());
        assertEquals(4, Files.readAllLines(out.resolve("metrics.jsonl")).size());
    }

    @Test
    void autoModeIsPlainWithoutATerminal() {
        CliRun r = CliRun.of(tiny(tmp.resolve("auto")).toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("step 4/4  ") && l.matches(PLAIN)), r.out());
    }

    @Test
    void unknownProgressModeIsAOneLineError() {
        CliRun r = CliRun.of(tiny(tmp.resolve("x"), "--progress", "fancy").toArray(String[]::new));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--progress: unknown value 'fancy'; use plain, bar or auto"), r.err());
        assertFalse(Files.exists(tmp.resolve("x")));
    }
}
