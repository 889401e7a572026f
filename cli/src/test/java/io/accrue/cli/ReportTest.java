package io.accrue.cli;

import io.accrue.run.RunResult;
import io.accrue.train.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** report.html from metrics.jsonl rows: every chart, self-contained, non-finite values left out. */
class ReportTest {
    @TempDir
    Path tmp;

    @Test
    void chartsEveryMetricFromTheRowsWithoutTheNetwork() throws IOException {
        List<Map<?, ?>> rows = new ArrayList<>();
        for (int s = 1; s <= 30; s++) {
            String loss = s == 7 ? "null" : Double.toString(5.0 / s);
            String val = s % 10 == 0 ? ",\"val_loss\":" + 6.0 / s : "";
            String flag = s == 7 ? ",\"non_finite\":{\"loss\":\"NaN\"}" : "";
            rows.add((Map<?, ?>) Json.parse("{\"step\":" + s + ",\"epoch\":" + s / 10.0 + ",\"loss\":" + loss
                    + ",\"learning_rate\":0.001,\"grad_norm\":" + (1.0 + s) + ",\"tokens_per_s\":1000.0,"
                    + "\"memory_bytes\":1048576,\"heap_used_bytes\":2097152" + val + flag + "}"));
        }
        Path html = Report.write(tmp, Map.of("model", "tiny"), Map.of("steps", 30L), rows,
                List.of(new RunResult.Eval(1, 10, "val_loss", 0.6), new RunResult.Eval(1, 20, "val_loss", 0.3)));
        String text = Files.readString(html);
        assertEquals(5, text.split("<img ", -1).length - 1, "loss, learning rate, gradient norm, throughput, memory");
        for (String heading : List.of("Loss", "Learning rate", "Gradient norm (before clipping)", "Throughput",
                "Memory", "Configuration", "Results")) {
            assertTrue(text.contains("<h2>" + heading + "</h2>"), heading);
        }
        assertFalse(text.contains("http://") || text.contains("https://") || text.contains("<script"),
                "self-contained: nothing to fetch");
        assertTrue(text.contains("<tr><td>1</td><td>20</td><td>0.3000</td></tr>"), "the evaluations' table");
    }
}
