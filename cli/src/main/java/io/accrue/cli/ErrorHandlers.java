package io.accrue.cli;

import io.accrue.data.EnvironmentException;
import io.accrue.train.CheckpointException;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a command reports errors: every error caused by the input — an unknown option, a malformed number, a missing
 * file, a configuration the trainer rejects, a corrupt checkpoint, a plan beyond the machine's memory — is one line
 * on stderr ({@code accrue: <problem>; <fix>}) and exit code {@link #USAGE}; running out of memory anyway is one
 * line and exit code {@link #OUT_OF_MEMORY}; a fault of the machine — a full disk, a directory that cannot be
 * written, data changed under the run, a checkpoint of a newer Accrue ({@link EnvironmentException}, or any other
 * I/O failure) — is one line and exit code {@link #ENVIRONMENT}; an internal failure is exit code 1. (A run stopped
 * by SIGINT or SIGTERM exits with 130 or 143 after its checkpoint, {@link Signals}.) Public so that the Spark
 * launcher reports its errors the same way.
 */
public final class ErrorHandlers {
    /** Exit code of bad input. */
    public static final int USAGE = 2;
    /** Exit code of an {@link OutOfMemoryError}: the JVM ran out of heap (or native memory) in spite of the plan. */
    public static final int OUT_OF_MEMORY = 3;
    /** Exit code of a fault of the machine (disk full, output not writable, data changed during the run). */
    public static final int ENVIRONMENT = 4;
    /** The exit codes as every command's {@code --help} lists them. */
    static final Map<String, String> EXIT_CODES = exitCodes(
            "0", "done",
            "1", "internal error (ACCRUE_DEBUG=1 adds the stack trace)",
            "2", "bad input: options, data, configuration or checkpoint (one line: the problem and the fix)",
            "3", "out of memory: the heap the plan asks for cannot be reserved, or memory ran out during the run",
            "4", "a fault of the machine: no space left, an output directory that cannot be written, data deleted "
                    + "or changed during the run, a checkpoint of a newer Accrue; the newest complete checkpoint is "
                    + "kept",
            "130", "stopped by SIGINT (Ctrl-C) after a checkpoint",
            "143", "stopped by SIGTERM after a checkpoint");

    /** The running command's memory plan: its predicted peak and the heap it asked for (0: none yet). */
    private static volatile long plannedBytes;
    private static volatile long plannedHeapBytes;

    private ErrorHandlers() {
    }

    /** Records the running command's plan, for the one line an {@link OutOfMemoryError} gets. */
    static void planned(long peakBytes, long heapBytes) {
        plannedBytes = peakBytes;
        plannedHeapBytes = heapBytes;
        LauncherLink.tell("plan", plan());
    }

    /** The recorded plan in words: "a predicted peak of 7.7 GiB with a heap of 7.9 GiB". */
    private static String plan() {
        return "a predicted peak of " + io.accrue.run.Run.bytes(plannedBytes) + " with a heap of "
                + io.accrue.run.Run.bytes(plannedHeapBytes);
    }

    /**
     * The one line for {@code e}: what ran out (the heap and its maximum, or native memory), the planned figure, and
     * what to do.
     */
    static String outOfMemory(OutOfMemoryError e) {
        String what = e.getMessage() == null ? "memory" : e.getMessage();
        long max = Runtime.getRuntime().maxMemory();
        String plan = plannedBytes > 0 ? "; the memory plan: " + plan() : "";
        return "out of memory (" + what + ") with a maximum Java heap of " + io.accrue.run.Run.bytes(max) + plan
                + "; run through ./accrue without ACCRUE_HEAP (it sizes the heap from the plan), or use "
                + "--checkpointing, a smaller --micro-batch, or --memory SIZE";
    }

    /** Installs the handlers on {@code cl}, lists the exit codes in every command's {@code --help}, returns it. */
    public static CommandLine install(CommandLine cl) {
        listExitCodes(cl);
        CommandLine.IExecutionStrategy run = new CommandLine.RunLast();
        cl.setExecutionStrategy(parseResult -> {
            try {
                return run.execute(parseResult);
            } catch (OutOfMemoryError e) {
                CommandLine c = parseResult.commandSpec().commandLine();
                c.getErr().println("accrue: " + outOfMemory(e));
                if (System.getenv("ACCRUE_DEBUG") != null) {
                    e.printStackTrace(c.getErr());
                }
                c.getErr().flush();
                return OUT_OF_MEMORY;
            }
        });
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
            if (ex instanceof EnvironmentException || ex instanceof IOException
                    || ex instanceof UncheckedIOException) {
                c.getErr().println("accrue: " + oneLine(environmentFault(ex)));
                if (System.getenv("ACCRUE_DEBUG") != null) {
                    ex.printStackTrace(c.getErr());
                }
                c.getErr().flush();
                return ENVIRONMENT;
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

    private static Map<String, String> exitCodes(String... codeAndMeaning) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < codeAndMeaning.length; i += 2) {
            m.put(codeAndMeaning[i], codeAndMeaning[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    private static void listExitCodes(CommandLine cl) {
        cl.getCommandSpec().usageMessage().exitCodeListHeading("Exit codes:%n").exitCodeList(EXIT_CODES);
        cl.getSubcommands().values().forEach(ErrorHandlers::listExitCodes);
    }

    /** The line of a fault of the machine; an I/O failure no layer described says what the system said. */
    private static String environmentFault(Exception ex) {
        if (ex instanceof EnvironmentException) {
            return ex.getMessage();
        }
        IOException io = ex instanceof UncheckedIOException u ? u.getCause() : (IOException) ex;
        String what = io instanceof FileSystemException f && f.getFile() != null
                ? EnvironmentException.of("access", Path.of(f.getFile()), io).getMessage()
                : "input/output error: " + io.getMessage();
        return what + (EnvironmentException.isDiskFull(io) ? "" : "; check the files and the disk named");
    }

    static String oneLine(String s) {
        return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", "; ");
    }
}
