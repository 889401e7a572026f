package io.accrue.cli;

import io.accrue.train.CheckpointException;
import picocli.CommandLine;

/**
 * How a command reports errors: every error caused by the input — an unknown option, a malformed number, a missing
 * file, a configuration the trainer rejects, a corrupt checkpoint, a plan beyond the machine's memory — is one line
 * on stderr ({@code accrue: <problem>; <fix>}) and exit code {@link #USAGE}; running out of memory anyway is one
 * line and exit code {@link #OUT_OF_MEMORY}; an internal failure is exit code 1. (A run stopped by SIGINT or SIGTERM
 * exits with 130 or 143 after its checkpoint, {@link Signals}.) Public so that the Spark launcher reports its errors
 * the same way.
 */
public final class ErrorHandlers {
    /** Exit code of bad input. */
    public static final int USAGE = 2;
    /** Exit code of an {@link OutOfMemoryError}: the JVM ran out of heap (or native memory) in spite of the plan. */
    public static final int OUT_OF_MEMORY = 3;

    /** The running command's memory plan: its predicted peak and the heap it asked for (0: none yet). */
    private static volatile long plannedBytes;
    private static volatile long plannedHeapBytes;

    private ErrorHandlers() {
    }

    /** Records the running command's plan, for the one line an {@link OutOfMemoryError} gets. */
    static void planned(long peakBytes, long heapBytes) {
        plannedBytes = peakBytes;
        plannedHeapBytes = heapBytes;
    }

    /**
     * The one line for {@code e}: what ran out (the heap and its maximum, or native memory), the planned figure, and
     * what to do.
     */
    static String outOfMemory(OutOfMemoryError e) {
        String what = e.getMessage() == null ? "memory" : e.getMessage();
        long max = Runtime.getRuntime().maxMemory();
        String plan = plannedBytes > 0 ? "; the memory plan predicted a peak of " + io.accrue.run.Run.bytes(plannedBytes)
                + " with a heap of " + io.accrue.run.Run.bytes(plannedHeapBytes) : "";
        return "out of memory (" + what + ") with a maximum Java heap of " + io.accrue.run.Run.bytes(max) + plan
                + "; run through ./accrue without ACCRUE_HEAP (it sizes the heap from the plan), or use "
                + "--checkpointing, a smaller --micro-batch, or --memory SIZE";
    }

    /** Installs the handlers on {@code cl} and returns it. */
    public static CommandLine install(CommandLine cl) {
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
