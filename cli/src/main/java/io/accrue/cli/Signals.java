package io.accrue.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * SIGINT (Ctrl-C) and SIGTERM while a run trains: the first asks it to stop after the current micro-batch, where it
 * writes a checkpoint and returns, and the command then exits with 128 + the signal's number (130, 143); a second
 * one ends the process at once with that code — a checkpoint being written then is lost, and the previous one stays
 * valid (checkpoints are written atomically). A signal that comes within {@link #SAME_DELIVERY_NANOS} of the first
 * is the same request delivered twice: the launcher passes on what it gets, and a signal for the whole process group
 * (Ctrl-C, {@code timeout}, a service manager) reaches both.
 *
 * <p>Why {@code sun.misc.Signal}: it is the JDK's supported way to handle a signal (module {@code jdk.unsupported},
 * kept open for exactly this), needs no command-line flag (unlike {@code jdk.internal.misc.Signal}) and lets the
 * handler choose: request a stop, count a second signal, leave the exit code to the command. A shutdown hook cannot:
 * it runs once the JVM is already exiting, races the training thread for the checkpoint, sees no second Ctrl-C and
 * cannot print the resume line after the checkpoint is complete. The library (core) knows nothing of signals:
 * {@link io.accrue.run.Run#stop()} is all it offers. A signal the parent process ignores (SIGINT for a job started with
 * {@code &} by a non-interactive shell) stays ignored: the JVM does not let a handler replace it.
 */
final class Signals implements AutoCloseable {
    private static final List<String> NAMES = List.of("INT", "TERM");
    /** How close a repeat must be to count as the first signal again, not as a second one. */
    static final long SAME_DELIVERY_NANOS = 300_000_000L;

    private final List<Signal> signals = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();
    private int received;
    private volatile int first;
    private long firstNanos;

    private Signals() {
    }

    /**
     * Handles SIGINT and SIGTERM until {@link #close}: the first calls {@code stop} and notes on {@code err} what
     * happens; a second halts the process.
     */
    static Signals install(Runnable stop, PrintWriter err) {
        Signals s = new Signals();
        for (String name : NAMES) {
            Signal signal = new Signal(name);
            try {
                s.previous.add(Signal.handle(signal, sig -> s.received(sig, stop, err)));
                s.signals.add(signal);
            } catch (IllegalArgumentException e) {
                // the JVM keeps this signal (e.g. run with -Xrs): its default stays
            }
        }
        return s;
    }

    private synchronized void received(Signal sig, Runnable stop, PrintWriter err) {
        int code = 128 + sig.getNumber();
        if (received > 0 && System.nanoTime() - firstNanos < SAME_DELIVERY_NANOS) {
            return;
        }
        if (++received == 1) {
            first = code;
            firstNanos = System.nanoTime();
            err.println("accrue: SIG" + sig.getName() + ": stopping after the current micro-batch to write a checkpoint"
                    + " (" + (sig.getName().equals("INT") ? "Ctrl-C" : "the signal") + " again stops at once)");
            err.flush();
            stop.run();
        } else {
            err.println("accrue: SIG" + sig.getName() + " again: stopped at once; the last complete checkpoint stays "
                    + "valid");
            err.flush();
            LauncherLink.tell("exit", Integer.toString(code));
            Runtime.getRuntime().halt(code);
        }
    }

    /** 128 + the number of the first signal received (130 for SIGINT, 143 for SIGTERM), or 0 if none came. */
    int exitCode() {
        return first;
    }

    /** Gives the signals back to their previous handlers. */
    @Override
    public void close() {
        for (int i = 0; i < signals.size(); i++) {
            try {
                Signal.handle(signals.get(i), previous.get(i));
            } catch (IllegalArgumentException e) {
                // as at install
            }
        }
    }
}
