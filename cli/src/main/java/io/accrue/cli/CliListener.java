package io.accrue.cli;

import io.accrue.run.Run;
import io.accrue.run.RunListener;
import io.accrue.run.StepReport;

import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * Shows a run on the console: its account as lines, its steps as a {@link Progress} bar or plain lines. Also the
 * hidden test hooks of {@code accrue train}: stop after a step as if interrupted; sleep after each step, after each
 * micro-batch, or inside a checkpoint write after each of its files (so that a test's signal or kill lands there).
 */
final class CliListener implements RunListener {
    private final Run<?> run;
    private final PrintWriter console;
    private final Progress.Mode mode;
    private final Long stopAfter;
    private final long logEvery;
    private final long stepDelayMillis;
    private final long microBatchDelayMillis;
    private final long checkpointDelayMillis;
    private Progress progress;

    CliListener(Run<?> run, PrintWriter console, Progress.Mode mode, long logEvery, Long stopAfter,
                long stepDelayMillis,
                long microBatchDelayMillis, long checkpointDelayMillis) {
        this.run = run;
        this.console = console;
        this.mode = mode;
        this.logEvery = logEvery;
        this.stopAfter = stopAfter;
        this.stepDelayMillis = stepDelayMillis;
        this.microBatchDelayMillis = microBatchDelayMillis;
        this.checkpointDelayMillis = checkpointDelayMillis;
    }

    @Override
    public void line(String text) {
        if (progress != null) {
            progress.println(text);
        } else {
            console.println(text);
            console.flush();
        }
    }

    @Override
    public void started(long plannedSteps, long doneSteps, String unit) {
        progress = Progress.create(mode, console, plannedSteps, doneSteps, unit, logEvery);
    }

    @Override
    public void microBatch(long step, int micro, int k) {
        progress.micro(step, micro, k);
        sleep(microBatchDelayMillis);
    }

    @Override
    public void checkpointWriting(Path file) {
        sleep(checkpointDelayMillis);
    }

    private void sleep(long millis) {
        if (millis > 0) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                run.stop();
            }
        }
    }

    @Override
    public void step(StepReport report) {
        progress.step(report);
        long done = report.metrics().step() + 1;
        if (stopAfter != null && done >= stopAfter) {
            run.stop();
        }
        sleep(stepDelayMillis);
    }

    @Override
    public void finished() {
        if (progress != null) {
            progress.close();
            progress = null;
        }
    }
}
