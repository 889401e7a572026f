package io.accrue.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.LongSupplier;

/**
 * When a benchmark has warmed up: after {@link #QUIET_STEPS} steps in a row during which the JIT compiled for less
 * than {@link #QUIET_FRACTION} of the step's time (its compiler threads' total, {@link CompilationMXBean}) — the
 * step's code is compiled, and what remains is the odd late recompilation — or after {@link #MAX_STEPS} steps or
 * {@link #MAX_SECONDS} seconds, whichever comes first. Without a JIT that reports its time, after one step.
 * Call {@link #warm} after each step.
 */
final class JitWarmup {
    static final int QUIET_STEPS = 5;
    static final double QUIET_FRACTION = 0.01;
    static final int MAX_STEPS = 300;
    static final double MAX_SECONDS = 120;

    /** The JIT's total compilation time so far in ms; null when the JVM does not report it. */
    private final LongSupplier compileMillis;
    private long lastMillis;
    private int steps;
    private int quiet;
    private double seconds;

    /** Follows this JVM's JIT. */
    JitWarmup() {
        this(jitMillis());
    }

    /** Follows {@code compileMillis} (null: nothing to follow, warm after one step). */
    JitWarmup(LongSupplier compileMillis) {
        this.compileMillis = compileMillis;
        this.lastMillis = compileMillis != null ? compileMillis.getAsLong() : 0;
    }

    private static LongSupplier jitMillis() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit::getTotalCompilationTime : null;
    }

    /** Whether warm-up is over after a step of {@code stepSeconds}. */
    boolean warm(double stepSeconds) {
        steps++;
        seconds += stepSeconds;
        if (compileMillis == null) {
            return true;
        }
        long now = compileMillis.getAsLong();
        quiet = (now - lastMillis) / 1e3 < QUIET_FRACTION * stepSeconds ? quiet + 1 : 0;
        lastMillis = now;
        return quiet >= QUIET_STEPS || steps >= MAX_STEPS || seconds >= MAX_SECONDS;
    }
}
