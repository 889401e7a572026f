package io.accrue.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the {@code accrue} command in-process with captured output. */
record CliRun(int code, String out, String err) {

    static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
