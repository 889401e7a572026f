package io.accrue.cli;

import io.accrue.run.Run;
import io.accrue.run.StepReport;
import io.accrue.train.StepMetrics;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

/**
 * How {@code accrue train} shows progress: a live bar on a terminal (optimizer step of the total, micro-batch
 * within the window, window loss, LR, tokens/s, memory, ETA), else a plain line every {@code --log-every} optimizer
 * steps (by default about every 10 seconds; the first and the last step always); {@code metrics.jsonl} has every
 * step either way.
 * Call {@link #micro} after each micro-batch, {@link #step} after each step boundary, {@link #close} at the end.
 */
abstract sealed class Progress implements AutoCloseable {

    /** The {@code --progress} choices. */
    enum Mode {
        PLAIN, BAR, AUTO;

        /** AUTO: the bar when standard output is an interactive terminal, else plain lines. */
        Mode resolve() {
            if (this != AUTO) {
                return this;
            }
            java.io.Console c = System.console();
            return c != null && c.isTerminal() ? BAR : PLAIN;
        }
    }

    final PrintWriter out;
    final long planned;
    final String unit;

    private Progress(PrintWriter out, long planned, String unit) {
        this.out = out;
        this.planned = planned;
        this.unit = unit;
    }

    /**
     * Progress of a run of {@code planned} steps resuming after {@code done}, written to {@code out}; throughput
     * in {@code unit}s per second ({@code tok}, {@code img}).
     */
    static Progress create(Mode mode, PrintWriter out, long planned, long done, String unit) {
        return create(mode, out, planned, done, unit, 0);
    }

    /**
     * {@link #create} whose plain lines come every {@code logEvery} optimizer steps, or with 0 about every
     * {@link Plain#AUTO_SECONDS} seconds; the first step of the process and the run's last are always shown.
     */
    static Progress create(Mode mode, PrintWriter out, long planned, long done, String unit, long logEvery) {
        return switch (mode.resolve()) {
            case BAR -> new Bar(out, planned, done, mode == Mode.AUTO, unit);
            default -> new Plain(out, planned, unit, logEvery);
        };
    }

    abstract void micro(long step, int micro, int k);

    abstract void step(StepReport s);

    /** A line of its own between steps (e.g. an evaluation), not overwritten by the bar. */
    abstract void println(String line);

    @Override
    public abstract void close();

    /** {@code step 3/12  loss 2.4312  lr 3.00e-03  12,345 tok/s  mem 6.9 MiB (arena 1.2 MiB)  heap 80.0 MiB  0:01  eta 0:10}. */
    static String plainLine(StepReport s, long planned) {
        return plainLine(s, planned, "tok");
    }

    static String plainLine(StepReport s, long planned, String unit) {
        StepMetrics m = s.metrics();
        return String.format(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e  %,.0f " + unit + "/s  mem %s (arena %s)  heap %s  %s"
                        + "  eta %s", m.step() + 1, planned, m.loss(), m.lr(), s.rate(),
                Run.bytes(s.memory().totalBytes()), Run.bytes(s.memory().arenaHighWaterBytes()), Run.bytes(s.heapUsedBytes()),
                Run.clock(s.elapsed()), Double.isFinite(s.eta()) ? Run.clock(s.eta()) : "?");
    }

    /** One line per optimizer step; nothing per micro-batch. */
    static final class Plain extends Progress {
        /** Seconds of training between lines when no step interval is given: a log stays readable at any speed. */
        static final double AUTO_SECONDS = 10;
        private final long logEvery;
        private double lastShown = Double.NaN;

        Plain(PrintWriter out, long planned, String unit, long logEvery) {
            super(out, planned, unit);
            this.logEvery = logEvery;
        }

        @Override
        void micro(long step, int micro, int k) {
        }

        @Override
        void step(StepReport s) {
            long done = s.metrics().step() + 1;
            boolean due = Double.isNaN(lastShown) || done >= planned
                    || (logEvery > 0 ? done % logEvery == 0 : s.elapsed() - lastShown >= AUTO_SECONDS);
            if (due) {
                lastShown = s.elapsed();
                out.println(plainLine(s, planned, unit));
                out.flush();
            }
        }

        @Override
        void println(String line) {
            out.println(line);
            out.flush();
        }

        @Override
        public void close() {
        }
    }

    /** A live {@code me.tongfei.progressbar} bar redrawn in place, with the latest step in its message. */
    static final class Bar extends Progress {
        private final ProgressBar bar;
        private final int width = terminalWidth();
        private String last = "";

        Bar(PrintWriter out, long planned, long done, boolean terminal, String unit) {
            super(out, planned, unit);
            this.bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(planned)
                    .startsFrom(done, Duration.ZERO).setUnit(" steps", 1).setUpdateIntervalMillis(250)
                    .setStyle(terminal ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII)
                    .setConsumer(new WriterConsumer(out, width)).build();
        }

        /** The terminal's width as jline sees it (80 when not a terminal), else 100. */
        static int terminalWidth() {
            try {
                return new ConsoleProgressBarConsumer(System.out).getMaxRenderedLength();
            } catch (RuntimeException | LinkageError e) {
                return 100;
            }
        }

        @Override
        void micro(long step, int micro, int k) {
            bar.setExtraMessage("k " + (micro + 1) + "/" + k + last);
        }

        @Override
        void step(StepReport s) {
            StepMetrics m = s.metrics();
            last = String.format(Locale.ROOT, " · loss %.4f · lr %.1e · %,.0f " + unit + "/s · mem %s (arena %s) heap %s",
                    m.loss(), m.lr(), s.rate(), Run.bytes(s.memory().totalBytes()),
                    Run.bytes(s.memory().arenaHighWaterBytes()), Run.bytes(s.heapUsedBytes()));
            bar.stepTo(m.step() + 1);
            bar.setExtraMessage("k " + m.accumulation() + "/" + m.accumulation() + last);
        }

        @Override
        void println(String line) {
            out.print('\r');
            out.println(line.length() >= width ? line : line + " ".repeat(width - line.length()));
            out.flush();
        }

        @Override
        public void close() {
            bar.close();
        }
    }

    /** Draws the bar on the command's writer: carriage return, the rendered line; a newline at the end. */
    static final class WriterConsumer implements ProgressBarConsumer {
        private final PrintWriter out;
        private final int width;

        WriterConsumer(PrintWriter out, int width) {
            this.out = out;
            this.width = width;
        }

        @Override
        public int getMaxRenderedLength() {
            return width;
        }

        @Override
        public void accept(String rendered) {
            out.print('\r');
            out.print(rendered);
            out.flush();
        }

        @Override
        public void close() {
            out.println();
            out.flush();
        }
    }
}
