package io.accrue.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The running machine's fp32 FMA throughput, measured: the peak that model FLOP utilisation (MFU) is quoted against,
 * instead of a figure assumed for one CPU. Each thread runs {@link #CHAINS} independent chains of vector FMAs on the
 * widest float vectors the JIT offers (enough chains to cover the FMA units' latency), with no memory traffic, in
 * chunks of about a millisecond for half a second, all threads together; the peak is the sum of the threads' rates in
 * their fastest chunks.
 *
 * <p>Usage: {@code FmaPeak [--threads N]} prints one JSON line, {@code {"threads": [1, N], "gflops": [G1, GN]}}.
 */
public final class FmaPeak {
    /** Independent accumulators per thread: 2 FMA units × a latency of 4–5 cycles, with room to spare. */
    static final int CHAINS = 12;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Seconds each thread runs chunks; a short probe, so that it can precede every benchmark. */
    private static final double SECONDS = 0.5;
    /** Iterations of one timed chunk: about a millisecond once compiled. */
    private static final long CHUNK = 1 << 16;
    /** Where each run's result goes, so that the JIT keeps the chains. */
    private static volatile float sunk;

    private FmaPeak() {
    }

    /** The machine's measured peak on 1 and on {@code threads} threads, in GFLOP/s: {@code {g1, gN}}. */
    public static double[] measure(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        }
        warmUp();
        return new double[] {gflops(1), gflops(threads)};
    }

    /** The measured line of {@link #measure} for {@code accrue bench}'s stderr. */
    public static String describe(double[] peak, int threads) {
        return String.format(Locale.ROOT, "FMA peak of this machine: %.1f GFLOP/s on 1 thread, %.1f on %d", peak[0],
                peak[1], threads);
    }

    /**
     * Calls the chains until the JIT has compiled them: until their best time has not improved by 5% for 0.3 s (at
     * least 0.5 s, at most 5 s). Before C2 has compiled them they run boxed, 100× slower, and on a loaded machine
     * the compilation itself waits for a core, so a fixed number of calls could time the interpreter.
     */
    private static void warmUp() {
        long start = System.nanoTime();
        long improved = start;
        double best = Double.MAX_VALUE;
        for (long now = start; now - start < 500_000_000L
                || (now - improved < 300_000_000L && now - start < 5_000_000_000L); now = System.nanoTime()) {
            double seconds = fastestChunk(1);
            if (seconds < 0.95 * best) {
                improved = System.nanoTime();
            }
            best = Math.min(best, seconds);
        }
    }

    /**
     * {@code threads} threads started together, each running chunks of {@link #CHUNK} iterations for
     * {@link #SECONDS}; the sum of each thread's rate in its fastest chunk. A chunk takes about a millisecond, so on a
     * shared machine most run without the thread being descheduled, which a long timed round would not.
     */
    private static double gflops(int threads) {
        CyclicBarrier start = new CyclicBarrier(threads);
        double[] fastest = new double[threads];
        Thread[] team = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            int id = i;
            team[i] = Thread.ofPlatform().start(() -> {
                await(start);
                fastest[id] = fastestChunk(SECONDS);
            });
        }
        for (Thread t : team) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("FMA probe interrupted", e);
            }
        }
        double flopsPerChunk = 2.0 * CHAINS * S.length() * CHUNK;
        return Arrays.stream(fastest).map(seconds -> flopsPerChunk / seconds / 1e9).sum();
    }

    /** The fastest of chunks of {@link #CHUNK} iterations run for {@code seconds} (at least one chunk). */
    private static double fastestChunk(double seconds) {
        double fastest = Double.MAX_VALUE;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        do {
            long t0 = System.nanoTime();
            sink(chains(CHUNK, 1f));
            fastest = Math.min(fastest, (System.nanoTime() - t0) / 1e9);
        } while (System.nanoTime() < end);
        return fastest;
    }

    /**
     * {@link #CHAINS} chains {@code a ← a·m + c} of {@code iterations} FMAs each; m and c keep them near 1 (no
     * overflow, no subnormals). Returns a value that depends on every chain, so none is optimised away.
     */
    static float chains(long iterations, float seed) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector c = FloatVector.broadcast(S, 1e-6f);
        FloatVector a0 = FloatVector.broadcast(S, seed);
        FloatVector a1 = a0.add(1f);
        FloatVector a2 = a0.add(2f);
        FloatVector a3 = a0.add(3f);
        FloatVector a4 = a0.add(4f);
        FloatVector a5 = a0.add(5f);
        FloatVector a6 = a0.add(6f);
        FloatVector a7 = a0.add(7f);
        FloatVector a8 = a0.add(8f);
        FloatVector a9 = a0.add(9f);
        FloatVector a10 = a0.add(10f);
        FloatVector a11 = a0.add(11f);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    private static void sink(float v) {
        sunk = v;
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException("FMA probe could not start its threads", e);
        }
    }

    public static void main(String[] args) {
        int threads = Runtime.getRuntime().availableProcessors();
        if (args.length == 2 && args[0].equals("--threads")) {
            threads = Integer.parseInt(args[1]);
        } else if (args.length != 0) {
            throw new IllegalArgumentException("usage: FmaPeak [--threads N]");
        }
        double[] peak = measure(threads);
        System.out.printf(Locale.ROOT, "{\"threads\": [1, %d], \"gflops\": [%.1f, %.1f]}%n", threads, peak[0],
                peak[1]);
    }
}
