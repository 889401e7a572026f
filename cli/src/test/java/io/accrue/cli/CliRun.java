package io.accrue.cli;

import io.accrue.train.Json;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** Runs the {@code accrue} command in-process with captured output. */
record CliRun(int code, String out, String err) {

    /**
     * The file of the run directory's newest checkpoint that its sidecar names under {@code key}
     * ({@code model_file}, {@code optimizer_file}); the directory keeps two checkpoints.
     */
    static Path newest(Path run, String key) throws IOException {
        Path dir = run.resolve("checkpoint");
        Map<?, ?> sidecar = (Map<?, ?>) Json.parse(Files.readString(dir.resolve("checkpoint.json")));
        return dir.resolve((String) ((Map<?, ?>) sidecar.get(key)).get("name"));
    }

    /** The newest checkpoints of two runs hold the same model and optimizer bytes. */
    static void assertSameBytes(Path whole, Path run, String what) throws IOException {
        assertArrayEquals(Files.readAllBytes(newest(whole, "model_file")), Files.readAllBytes(newest(run, "model_file")),
                "weights, " + what);
        assertArrayEquals(Files.readAllBytes(newest(whole, "optimizer_file")),
                Files.readAllBytes(newest(run, "optimizer_file")), "optimizer state, " + what);
    }

    /** {@code args} with each option/value pair of {@code extra} replacing the option's value, or appended. */
    static List<String> withOptions(List<String> args, String... extra) {
        List<String> a = new ArrayList<>(args);
        for (int i = 0; i < extra.length; i += 2) {
            int at = a.indexOf(extra[i]);
            if (at >= 0) {
                a.set(at + 1, extra[i + 1]);
            } else {
                a.add(extra[i]);
                a.add(extra[i + 1]);
            }
        }
        return a;
    }

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
