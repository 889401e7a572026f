package io.accrue.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed team of threads that splits a range of independent outputs into contiguous parts.
 *
 * <p>Kernels hand it ranges of <em>outputs</em> (rows, tiles, channels), never a reduction (law 3), so the
 * result is identical for any thread count. The calling thread runs part 0; the team's other threads are
 * daemons that park between calls. One instance per trainer, passed explicitly — no global pool.
 */
public final class Parallel implements AutoCloseable {

    /** The body of a parallel loop: handles outputs {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    /**
     * Spin-waits before a worker parks: about 5 ms on this machine's cores. A parked worker takes tens of
     * microseconds to wake, more than a small kernel runs, so workers keep spinning through the caller's short
     * serial stretches between kernels (as OpenMP's default wait policy does) and park only when training pauses.
     */
    private static final int WORKER_SPINS = 200_000;
    /** Spin-waits of the caller for the workers' parts before it parks (they are as long as its own part). */
    private static final int CALLER_SPINS = 20_000;

    private final int threads;
    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Range task;
    private volatile int activeParts;
    private volatile int taskSize;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile Throwable failure;

    public Parallel(int threads) {
        if (threads < 1 || threads > 256) {
            throw new IllegalArgumentException("threads must be in [1, 256], got " + threads);
        }
        this.threads = threads;
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
        if (n <= 0) {
            return;
        }
        int parts = Math.min(threads, Math.max(1, n / Math.max(1, grain)));
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("Parallel team is closed");
            }
            failure = null;
            caller = Thread.currentThread();
            taskSize = n;
            task = body;
            activeParts = parts;
            pending.set(parts - 1);
            generation++;
            for (int i = 0; i < parts - 1; i++) {
                LockSupport.unpark(workers[i]);
            }
            body.run(0, bound(n, parts, 1));
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
        }
    }

    /** End (exclusive) of part {@code p-1}, i.e. start of part p, for n outputs in {@code parts} parts. */
    private static int bound(int n, int parts, int p) {
        return (int) ((long) n * p / parts);
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
            Range r = task;
            int n = taskSize;
            int parts = activeParts;
            try {
                r.run(bound(n, parts, part), bound(n, parts, part + 1));
            } catch (Throwable t) {
                failure = t;
            }
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
