package io.accrue.cli;

import io.accrue.train.CheckpointException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/**
 * Entry point of the {@code accrue} command. Every error caused by the input — an unknown option, a malformed
 * number, a missing file, a configuration the trainer rejects, a corrupt checkpoint — is one line on stderr
 * ({@code accrue: <problem>; <fix>}) and exit code 2; an internal failure is exit code 1.
 */
@Command(name = "accrue", mixinStandardHelpOptions = true, version = "accrue 0.1.0",
        description = "Neural-network training with exact gradient accumulation.",
        subcommands = {TrainCommand.class, SampleCommand.class, PlanCommand.class, BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code of bad input. */
    public static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The command with its error handlers, writing to {@code out} and {@code err}. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
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

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        System.exit(code);
    }
}
