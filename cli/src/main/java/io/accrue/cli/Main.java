package io.accrue.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;

/**
 * Entry point of the {@code accrue} command. Every error caused by the input is one line on stderr and exit code 2;
 * an internal failure is exit code 1 ({@link ErrorHandlers}).
 */
@Command(name = "accrue", mixinStandardHelpOptions = true, version = "accrue 0.1.0",
        description = "Neural-network training with exact gradient accumulation.",
        subcommands = {PrepareCommand.class, TrainCommand.class, SampleCommand.class, ExportCommand.class,
                PlanCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Exit code of bad input. */
    public static final int USAGE = ErrorHandlers.USAGE;

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
        OptionThemes.install(cl.getSubcommands().get("train"), TrainCommand.THEMES);
        return ErrorHandlers.install(cl);
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        LauncherLink.watchLauncher();
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = commandLine(out, err).execute(args);
        out.flush();
        err.flush();
        LauncherLink.tell("exit", Integer.toString(code));
        System.exit(code);
    }
}
