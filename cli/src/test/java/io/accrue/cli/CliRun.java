package io.accrue.cli;

import io.accrue.train.Json;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

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

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
