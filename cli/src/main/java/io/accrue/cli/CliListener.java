package io.accrue.cli;

import io.accrue.run.Run;
import io.accrue.run.RunListener;
import io.accrue.run.StepReport;

import java.io.PrintWriter;

/**
 * Shows a run on the console: its account as lines, its steps as a {@link Progress} bar or plain lines. Also the
 * hidden test hooks of {@code accrue train}: stop after a step as if interrupted, sleep after each step.
 */
final class CliListener implements RunListener {
    private final Run<?> run;
    private final PrintWriter console;
    private final Progress.Mode mode;
    private final Long stopAfter;
    private final long stepDelayMillis;
    private Progress progress;

    CliListener(Run<?> run, PrintWriter console, Progress.Mode mode, Long stopAfter, long stepDelayMillis) {
        this.run = run;
        this.console = console;
        this.mode = mode;
        this.stopAfter = stopAfter;
        this.stepDelayMillis = stepDelayMillis;
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
        progress = Progress.create(mode, console, plannedSteps, doneSteps, unit);
    }

    @Override
    public void microBatch(long step, int micro, int k) {
        progress.micro(step, micro, k);
    }

    @Override
    public void step(StepReport report) {
        progress.step(report);
        long done = report.metrics().step() + 1;
        if (stopAfter != null && done >= stopAfter) {
            run.stop();
        }
        if (stepDelayMillis > 0) {
            try {
                Thread.sleep(stepDelayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                run.stop();
            }
        }
    }

    @Override
    public void finished() {
        if (progress != null) {
            progress.close();
            progress = null;
        }
    }
}
