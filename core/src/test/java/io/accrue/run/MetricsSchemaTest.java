package io.accrue.run;

import io.accrue.train.Json;
import io.accrue.train.MemoryUsage;
import io.accrue.train.StepMetrics;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The per-step row: its fields and their order, strict JSON with non-finite values flagged, the README's table. */
class MetricsSchemaTest {

    static StepReport report(double loss, double gradNorm) {
        StepMetrics m = new StepMetrics(4, 1, 4, 16, 64, loss, 3e-3, gradNorm, Double.isNaN(gradNorm), 0.5, 1000);
        MemoryUsage mem = new MemoryUsage(1 << 20, 1 << 20, List.of(1L << 20, 1L << 20), 4000);
        return new StepReport(m, mem, 80L << 20, 128.0, 61.5, 9.6);
    }

    @Test
    void aRowHoldsTheSchemasFieldsInOrder() {
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("val_loss", 2.25);
        String line = MetricsSchema.json(MetricsSchema.row(report(2.5, 1.5), 1.25, "tokens_per_s", extra));
        assertEquals("{\"step\":5,\"epoch\":1.25,\"loss\":2.5,\"learning_rate\":0.003,\"grad_norm\":1.5,"
                + "\"skipped\":false,\"examples\":16,\"count\":64,\"step_time_s\":0.5,\"tokens_per_s\":128.0,"
                + "\"elapsed_s\":61.5,\"memory_bytes\":4198304,\"heap_used_bytes\":83886080,"
                + "\"val_loss\":2.25}", line);
        List<String> names = MetricsSchema.FIELDS.stream().map(MetricsSchema.Field::name).toList();
        List<String> keys = new ArrayList<>(((Map<?, ?>) Json.parse(line)).keySet().stream().map(String::valueOf)
                .toList());
        assertEquals(keys, names.stream().filter(keys::contains).toList(), "the schema's order");
    }

    @Test
    void nonFiniteValuesAreNullAndFlagged() {
        Map<String, Object> row = MetricsSchema.row(report(Double.POSITIVE_INFINITY, Double.NaN), 0.5,
                "images_per_s", Map.of("sync_ms", Double.NEGATIVE_INFINITY));
        String line = MetricsSchema.json(row);
        Map<?, ?> j = (Map<?, ?>) Json.parse(line); // strict: NaN or Infinity would not parse
        assertEquals(null, j.get("loss"));
        assertEquals(null, j.get("grad_norm"));
        assertEquals(true, j.get("skipped"));
        assertEquals(Map.of("loss", "Infinity", "grad_norm", "NaN", "sync_ms", "-Infinity"),
                j.get(MetricsSchema.NON_FINITE));
        assertFalse(line.contains("NaN,") || line.contains("Infinity,"), line);
        assertFalse(MetricsSchema.json(MetricsSchema.row(report(2, 1), 0.5, "tokens_per_s", Map.of()))
                .contains(MetricsSchema.NON_FINITE));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"loss\":NaN}"), "the parser is strict");
    }

    @Test
    void columnsAreThoseOfTheRun() {
        assertEquals(List.of("step", "epoch", "loss", "learning_rate", "grad_norm", "skipped", "examples", "count",
                "step_time_s", "tokens_per_s", "elapsed_s", "memory_bytes", "heap_used_bytes", "val_loss",
                "sync_ms"), MetricsSchema.columns("tokens_per_s", "val_loss", Set.of("sync_ms")));
        assertEquals(List.of("step", "epoch", "loss", "learning_rate", "grad_norm", "skipped", "examples", "count",
                "step_time_s", "images_per_s", "elapsed_s", "memory_bytes", "heap_used_bytes"),
                MetricsSchema.columns("images_per_s", null, Set.of()));
    }

    /** The README's table of {@code metrics.jsonl} names every field of the schema, in order, with its unit. */
    @Test
    void theReadmeDocumentsTheSchema() throws IOException {
        String readme = Files.readString(Path.of("../README.md"));
        int at = readme.indexOf("**`metrics.jsonl`**");
        Matcher row = Pattern.compile("(?m)^\\| `([a-z_]+)` \\| ([^|]+) \\|").matcher(readme);
        List<String> documented = new ArrayList<>();
        row.region(at, readme.length());
        while (row.find() && documented.size() < MetricsSchema.FIELDS.size()) {
            documented.add(row.group(1) + " " + row.group(2).trim());
        }
        assertEquals(MetricsSchema.FIELDS.stream().map(f -> f.name() + " " + f.unit()).toList(), documented);
    }
}
