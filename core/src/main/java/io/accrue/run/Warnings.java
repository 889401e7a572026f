package io.accrue.run;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Shows the trainer's warnings (logged on {@code io.accrue.train}, e.g. BatchNorm with K &gt; 1 or a skipped
 * window) as {@code warning: <message>} lines on the command's console while training runs, instead of the JDK
 * logger's two-line stderr format. Open with {@link #to} before {@code fit}, {@link #close} after.
 */
final class Warnings extends Handler implements AutoCloseable {
    private static final String LOGGER = "io.accrue.train";

    private final Logger logger;
    private final boolean parentHandlers;
    private final Consumer<String> console;
    private final List<String> shown = new ArrayList<>();

    private Warnings(Logger logger, Consumer<String> console) {
        this.logger = logger;
        this.parentHandlers = logger.getUseParentHandlers();
        this.console = console;
    }

    /** Routes the trainer's warnings to {@code console} until {@link #close}. */
    static Warnings to(Consumer<String> console) {
        Warnings w = new Warnings(Logger.getLogger(LOGGER), console);
        w.logger.addHandler(w);
        w.logger.setUseParentHandlers(false);
        return w;
    }

    @Override
    public synchronized void publish(LogRecord r) {
        if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
            shown.add(r.getMessage());
            console.accept("warning: " + r.getMessage());
        }
    }

    /** Prints those of {@code warnings} (the trainer's result) that did not come through the logger. */
    synchronized void printMissed(List<String> warnings, Consumer<String> out) {
        for (String w : warnings) {
            if (!shown.contains(w)) {
                out.accept("warning: " + w);
            }
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public synchronized void close() {
        logger.removeHandler(this);
        logger.setUseParentHandlers(parentHandlers);
    }
}
