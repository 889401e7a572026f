package io.accrue.tensor;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads that splits a range of independent outputs into contiguous parts.
 *
 * <p>Kernels hand it ranges of <em>outputs</em> (rows, tiles, channels), never a reduction (law 3), so the
 * result is identical for any thread count and any cut. The calling thread runs part 0; the team's other threads
 * are daemons that park between calls. One instance per trainer, passed explicitly — no global pool.
 *
 * <p>Parts are cut in proportion to how fast each thread has recently been on the same loop (the body's class,
 * one per call site): a shared machine's cores do not run at one speed — one core can run a GEMM markedly slower
 * than the other for stretches of hundreds of calls — and equal parts would leave the faster threads idle. Since
 * outputs are independent, where the cut falls changes no bit.
 */
public final class Parallel implements AutoCloseable {

    /** A body that also needs its part's index, for scratch owned per part: handles {@code [from, to)}. */
    @FunctionalInterface
    public interface PartRange {
        void run(int part, int from, int to);
    }

    /** The body of a parallel loop: handles outputs {@code [from, to)}, whichever part it is. */
    @FunctionalInterface
    public interface Range extends PartRange {
        void run(int from, int to);

        @Override
        default void run(int part, int from, int to) {
            run(from, to);
        }
    }

    /**
     * Spin-waits before a worker parks: about 5 ms on this machine's cores. A parked worker takes tens of
     * microseconds to wake, more than a small kernel runs, so workers keep spinning through the caller's short
     * serial stretches between kernels (as OpenMP's default wait policy does) and park only when training pauses.
     */
    private static final int WORKER_SPINS = 200_000;
    /** Spin-waits of the caller for the workers' parts before it parks (they are as long as its own part). */
    private static final int CALLER_SPINS = 20_000;
    /** Calls whose parts all ran at least this long teach the speeds; shorter ones are mostly overhead. */
    private static final long MIN_TIMED_NANOS = 50_000;
    /** Weight of the latest call in a part's speed (an exponential average over roughly the last 4 calls). */
    private static final double LATEST_WEIGHT = 0.25;
    /** Least relative speed a part keeps, so that its share never vanishes and it keeps being measured. */
    private static final double MIN_SPEED = 0.25;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    /** Per loop (the body's class): each part's speed relative to the team's mean. Touched by callers only. */
    private final Map<Class<?>, double[]> speeds = new HashMap<>();
    /** The current call's cuts: part p handles {@code [cuts[p], cuts[p+1])}. Published by {@link #generation}. */
    private final int[] cuts;
    /** Each part's speed on a loop's first call. */
    private final double[] initialSpeed;
    /** How long each part of the current call ran, written by its thread before it reports done. */
    private final long[] partNanos;
    private volatile PartRange task;
    private volatile int activeParts;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile Throwable failure;

    public Parallel(int threads) {
        this(threads, null);
    }

    /**
     * A team whose every loop starts from the given part speeds instead of equal ones: tests use it to get
     * uneven cuts on the first call of a loop.
     */
    Parallel(int threads, double[] initialSpeed) {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads must be in [1, 256], got " + threads);
        }
        if (initialSpeed != null && initialSpeed.length != threads) {
            throw new IllegalArgumentException(initialSpeed.length + " speeds for " + threads + " threads");
        }
        this.threads = threads;
        this.initialSpeed = initialSpeed != null ? initialSpeed.clone() : filled(threads);
        this.cuts = new int[threads + 1];
        this.partNanos = new long[threads];
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("accrue-worker-" + part).start(() -> work(part));
        }
    }

    /** A team with one thread per available processor. */
    public static Parallel allCores() {
        return new Parallel(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@code threads} contiguous parts, each at least
     * {@code grain} long, and returns when all parts are done.
     */
    public void forRange(int n, int grain, Range body) {
        forParts(n, grain, body);
    }

    /** {@link #forRange} for a body that is told its part's index; parts are {@code min(threads, n / grain)}. */
    public void forParts(int n, int grain, PartRange body) {
        if (n <= 0) {
            return;
        }
        int parts = Math.min(threads, Math.max(1, n / Math.max(1, grain)));
        if (parts == 1) {
            body.run(0, 0, n);
            return;
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("Parallel team is closed");
            }
            double[] speed = speeds.get(body.getClass());
            if (speed == null) { // not computeIfAbsent: its capturing lambda would be allocated on every call
                speed = initialSpeed.clone();
                speeds.put(body.getClass(), speed);
            }
            cut(n, parts, speed);
            failure = null;
            caller = Thread.currentThread();
            task = body;
            activeParts = parts;
            pending.set(parts - 1);
            generation++;
            for (int i = 0; i < parts - 1; i++) {
                LockSupport.unpark(workers[i]);
            }
            long start = System.nanoTime();
            body.run(0, cuts[0], cuts[1]);
            partNanos[0] = System.nanoTime() - start;
            int spins = 0;
            while (pending.get() > 0) {
                if (++spins < CALLER_SPINS) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            task = null;
            if (failure != null) {
                throw new IllegalStateException("a worker thread failed: " + failure, failure);
            }
            learn(parts, speed);
        }
    }

    private static double[] filled(int threads) {
        double[] speed = new double[threads];
        Arrays.fill(speed, 1.0);
        return speed;
    }

    /** Cuts {@code [0, n)} into {@code parts} contiguous parts in proportion to the parts' speeds. */
    private void cut(int n, int parts, double[] speed) {
        double total = 0;
        for (int p = 0; p < parts; p++) {
            total += speed[p];
        }
        double before = 0;
        for (int p = 0; p < parts; p++) {
            cuts[p] = (int) Math.round(n * (before / total));
            before += speed[p];
        }
        cuts[parts] = n;
    }

    /**
     * Moves each part's speed toward what this call measured (outputs per nanosecond, relative to the parts'
     * mean), if every part had outputs and ran long enough for its time to mean something.
     */
    private void learn(int parts, double[] speed) {
        double sum = 0;
        for (int p = 0; p < parts; p++) {
            if (cuts[p + 1] == cuts[p] || partNanos[p] < MIN_TIMED_NANOS) {
                return;
            }
            sum += rate(p);
        }
        for (int p = 0; p < parts; p++) {
            double measured = rate(p) * parts / sum;
            speed[p] = Math.max(MIN_SPEED, speed[p] + LATEST_WEIGHT * (measured - speed[p]));
        }
    }

    private double rate(int part) {
        return (double) (cuts[part + 1] - cuts[part]) / partNanos[part];
    }

    private void work(int part) {
        long seen = 0;
        while (!closed) {
            long g = generation;
            if (g == seen || part >= activeParts) {
                seen = g == seen ? seen : g;
                int spins = 0;
                while (generation == seen && !closed) {
                    if (++spins < WORKER_SPINS) {
                        Thread.onSpinWait();
                    } else {
                        LockSupport.park(this);
                    }
                }
                continue;
            }
            seen = g;
            PartRange r = task;
            long start = System.nanoTime();
            try {
                r.run(part, cuts[part], cuts[part + 1]);
            } catch (Throwable t) {
                failure = t;
            }
            partNanos[part] = System.nanoTime() - start;
            if (pending.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
