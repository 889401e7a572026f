package io.accrue.cli;

import io.accrue.train.CheckpointException;
import picocli.CommandLine;

/**
 * How a command reports errors: every error caused by the input — an unknown option, a malformed number, a missing
 * file, a configuration the trainer rejects, a corrupt checkpoint — is one line on stderr
 * ({@code accrue: <problem>; <fix>}) and exit code {@link #USAGE}; an internal failure is exit code 1. Public so
 * that the Spark launcher reports its errors the same way.
 */
public final class ErrorHandlers {
    /** Exit code of bad input. */
    public static final int USAGE = 2;

    private ErrorHandlers() {
    }

    /** Installs the handlers on {@code cl} and returns it. */
    public static CommandLine install(CommandLine cl) {
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine c = ex.getCommandLine();
            String name = c.getCommandSpec().qualifiedName();
            c.getErr().println("accrue: " + oneLine(ex.getMessage()) + " (see '" + name + " --help')");
            c.getErr().flush();
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parseResult) -> {
            if (ex instanceof UsageException || ex instanceof IllegalArgumentException
                    || ex instanceof CheckpointException) {
                c.getErr().println("accrue: " + oneLine(ex.getMessage()));
                c.getErr().flush();
                return USAGE;
            }
            c.getErr().println("accrue: internal error: " + oneLine(String.valueOf(ex)));
            if (System.getenv("ACCRUE_DEBUG") != null) {
                ex.printStackTrace(c.getErr());
            }
            c.getErr().flush();
            return 1;
        });
        return cl;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
