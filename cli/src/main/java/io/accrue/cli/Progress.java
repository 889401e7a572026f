package io.accrue.cli;

import io.accrue.run.Run;
import io.accrue.run.StepReport;
import io.accrue.train.StepMetrics;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarRenderer;
import me.tongfei.progressbar.ProgressState;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * How {@code accrue train} shows progress: a live bar on a terminal (optimizer step of the total, micro-batch
 * within the window, window loss, LR, tokens/s, ETA; its text shortened to fit the terminal, the bar kept), else a
 * plain line every {@code --log-every} optimizer steps (by default about every 10 seconds; the first and the last
 * step always); {@code metrics.jsonl} has every step either way. The ETA is the run's ({@link StepReport#eta}: the
 * median of recent steps). Memory is a line of its own after the first step and again only when it changes.
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
    /** The training state's bytes the last memory line showed; -1 before the first. */
    private long memoryShown = -1;

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
     * {@link Plain#AUTO_SECONDS} seconds (a long run: about {@link Plain#AUTO_LINES} lines in all); the first step
     * of the process and the run's last are always shown.
     */
    static Progress create(Mode mode, PrintWriter out, long planned, long done, String unit, long logEvery) {
        return switch (mode.resolve()) {
            case BAR -> new Bar(out, planned, done, mode == Mode.AUTO, unit);
            default -> new Plain(out, planned, unit, logEvery);
        };
    }

    abstract void micro(long step, int micro, int k);

    abstract void step(StepReport s);

    /** The memory line after step {@code s} when the training state's total differs from the last one shown. */
    final void showMemoryIfChanged(StepReport s) {
        long total = s.memory().totalBytes();
        if (total != memoryShown) {
            memoryShown = total;
            println(String.format(Locale.ROOT, "memory after step %d: training state %s (activation arena %s), JVM "
                            + "heap in use %s", s.metrics().step() + 1, Run.bytes(total),
                    Run.bytes(s.memory().arenaHighWaterBytes()), Run.bytes(s.heapUsedBytes())));
        }
    }

    /** A line of its own between steps (e.g. an evaluation), not overwritten by the bar. */
    abstract void println(String line);

    @Override
    public abstract void close();

    /** {@code step 3/12  loss 2.4312  lr 3.00e-03  12,345 tok/s  0:01  eta 0:10}. */
    static String plainLine(StepReport s, long planned, String unit) {
        StepMetrics m = s.metrics();
        return String.format(Locale.ROOT, "step %d/%d  loss %.4f  lr %.2e  %,.0f %s/s  %s  eta %s", m.step() + 1,
                planned, m.loss(), m.lr(), s.rate(), unit, Run.clock(s.elapsed()), eta(s));
    }

    /** The ETA as {@code m:ss}, {@code ?} while unknown. */
    static String eta(StepReport s) {
        return Double.isFinite(s.eta()) ? Run.clock(s.eta()) : "?";
    }

    /** One line per optimizer step; nothing per micro-batch. */
    static final class Plain extends Progress {
        /** Seconds of training between lines when no step interval is given: a log stays readable at any speed. */
        static final double AUTO_SECONDS = 10;
        /** Lines a long run's log holds at most, about: its interval grows with the time the run takes. */
        static final int AUTO_LINES = 60;
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
                    || (logEvery > 0 ? done % logEvery == 0 : s.elapsed() - lastShown >= autoInterval(s));
            if (due) {
                lastShown = s.elapsed();
                out.println(plainLine(s, planned, unit));
                out.flush();
            }
            showMemoryIfChanged(s);
        }

        /** {@link #AUTO_SECONDS}, or the run's whole time (elapsed + ETA) over {@link #AUTO_LINES} if longer. */
        static double autoInterval(StepReport s) {
            double total = s.elapsed() + s.eta();
            return Double.isFinite(total) ? Math.max(AUTO_SECONDS, total / AUTO_LINES) : AUTO_SECONDS;
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

    /**
     * A live {@code me.tongfei.progressbar} bar redrawn in place, with the latest step in its message: {@code train
     * 20% │██▌         │ 4/20 0:05<0:21 k 1/8 loss 2.2341 lr 3.0e-03 1,038 tok/s}.
     */
    static final class Bar extends Progress {
        private final ProgressBar bar;
        private final int width = terminalWidth();
        private String last = "";
        private volatile String eta = "?";

        Bar(PrintWriter out, long planned, long done, boolean terminal, String unit) {
            super(out, planned, unit);
            this.bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(planned)
                    .startsFrom(done, Duration.ZERO).setUpdateIntervalMillis(250)
                    .setRenderer(new FittedRenderer(terminal, () -> eta))
                    .setConsumer(new WriterConsumer(out, width)).build();
        }

        /** The terminal's width as jline sees it (80 when not a terminal), else 80. */
        static int terminalWidth() {
            try {
                return new ConsoleProgressBarConsumer(System.out).getMaxRenderedLength();
            } catch (RuntimeException | LinkageError e) {
                return FittedRenderer.COLUMNS;
            }
        }

        @Override
        void micro(long step, int micro, int k) {
            bar.setExtraMessage("k " + (micro + 1) + "/" + k + last);
        }

        @Override
        void step(StepReport s) {
            StepMetrics m = s.metrics();
            last = String.format(Locale.ROOT, " loss %.4f lr %.1e %,.0f %s/s", m.loss(), m.lr(), s.rate(), unit);
            eta = eta(s);
            bar.stepTo(m.step() + 1);
            bar.setExtraMessage("k " + m.accumulation() + "/" + m.accumulation() + last);
            showMemoryIfChanged(s);
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

    /**
     * Lays a bar out in the width it is given: the task, the percentage, a bar of at least {@link #MIN_BAR}
     * cells, the steps, the time and ETA ({@code elapsed<left}, as tqdm shows them), then the message — shortened with {@code …} when the line would not fit,
     * so that the bar keeps its cells.
     */
    static final class FittedRenderer implements ProgressBarRenderer {
        /** The width assumed when the terminal's is unknown. */
        static final int COLUMNS = 80;
        static final int MIN_BAR = 10;
        private static final String BLOCKS = " ▏▎▍▌▋▊▉█";
        private final boolean unicode;
        private final Supplier<String> eta;

        FittedRenderer(boolean unicode, Supplier<String> eta) {
            this.unicode = unicode;
            this.eta = eta;
        }

        @Override
        public String render(ProgressState state, int maxLength) {
            return line(state.getTaskName(), state.getCurrent(), state.getMax(),
                    state.getTotalElapsed().toSeconds(), eta.get(), state.getExtraMessage(), maxLength);
        }

        /** The line of step {@code current} of {@code max} in {@code width} columns (≤ 0: {@link #COLUMNS}). */
        String line(String task, long current, long max, long elapsedSeconds, String eta, String message, int width) {
            int columns = width > 0 ? width : COLUMNS;
            double done = max > 0 ? Math.min(1, (double) current / max) : 0;
            String head = String.format(Locale.ROOT, "%s %3d%% %s", task, (int) (done * 100), unicode ? "│" : "[");
            String tail = String.format(Locale.ROOT, "%s %d/%d %s<%s ", unicode ? "│" : "]", current, max,
                    Run.clock(elapsedSeconds), eta);
            String text = message == null ? "" : message;
            int room = columns - head.length() - tail.length() - MIN_BAR;
            if (text.length() > room) {
                text = room > 1 ? text.substring(0, room - 1) + "…" : "";
            }
            int cells = Math.max(MIN_BAR, columns - head.length() - tail.length() - text.length());
            return head + cells(done, cells) + tail + text;
        }

        /** {@code cells} characters filled to {@code done}: eighth blocks on a terminal, {@code =>} otherwise. */
        private String cells(double done, int cells) {
            int eighths = (int) Math.round(done * cells * 8);
            StringBuilder b = new StringBuilder(cells);
            for (int i = 0; i < cells; i++) {
                int fill = Math.clamp(eighths - 8L * i, 0, 8);
                b.append(unicode ? BLOCKS.charAt(fill) : fill == 8 ? '=' : fill > 0 ? '>' : ' ');
            }
            return b.toString();
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
