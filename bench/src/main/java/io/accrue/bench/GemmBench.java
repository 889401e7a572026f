package io.accrue.bench;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.gemm.Gemm;
import io.accrue.tensor.gemm.Matrix;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * GFLOPS of {@link Gemm} for the three training forms of a linear layer with W (out, in) and N = tokens rows.
 *
 * <pre>
 * forward  Y  += X·Wᵀ   m=N,   n=out, k=in   (transA=false, transB=true)
 * dX       dX += dY·W   m=N,   n=in,  k=out  (false, false)
 * dW       dW += dYᵀ·X  m=out, n=in,  k=N    (true, false)
 * </pre>
 *
 * First all three forms run on small shapes for {@code --jit-warmup} seconds (JIT compilation). Then each case
 * warms up for {@code --warmup} seconds, then times {@code --reps} repetitions of at least
 * {@code --rep-time} seconds each (as many calls as fit) and reports the median, min and max GFLOPS
 * (2·m·n·k flops a call), and the median of the same flops over the process's CPU time divided by the threads
 * ({@code cpu=}: what a core delivers while it runs, less sensitive to other processes sharing the machine).
 * One line per case: {@code RESULT shape=N:in:out form=F threads=T gflops=G ...}.
 *
 * <p>Usage: {@code java --add-modules jdk.incubator.vector -cp bench/target/classes:core/target/classes
 * io.accrue.bench.GemmBench [--shapes 1024:1024:1024,4096:768:3072] [--forms forward,dx,dw] [--threads 1,2]
 * [--warmup 1.0] [--reps 7] [--rep-time 0.2]}
 */
public final class GemmBench {
    private GemmBench() {
    }

    /** A linear layer's GEMM: {@code tokens} rows, W (out, in), form forward, dx or dw. */
    record Case(int tokens, int in, int out, String form) {
        int m() {
            return form.equals("dw") ? out : tokens;
        }

        int n() {
            return form.equals("forward") ? out : in;
        }

        int k() {
            return switch (form) {
                case "forward" -> in;
                case "dx" -> out;
                default -> tokens;
            };
        }
    }

    public static void main(String[] args) {
        List<String> shapes = List.of("1024:1024:1024", "4096:768:768", "4096:768:3072", "4096:3072:768");
        List<String> forms = List.of("forward", "dx", "dw");
        int[] threads = {1, 2};
        double warmup = 1.0;
        double jitWarmup = 2.0;
        int reps = 7;
        double repTime = 0.2;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--shapes" -> shapes = List.of(v.split(","));
                case "--forms" -> forms = List.of(v.split(","));
                case "--threads" -> threads = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
                case "--warmup" -> warmup = Double.parseDouble(v);
                case "--jit-warmup" -> jitWarmup = Double.parseDouble(v);
                case "--reps" -> reps = Integer.parseInt(v);
                case "--rep-time" -> repTime = Double.parseDouble(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (known: --shapes --forms --threads --warmup --jit-warmup --reps --rep-time)");
            }
            i++;
        }
        List<Case> cases = new ArrayList<>();
        for (String s : shapes) {
            String[] p = s.split(":");
            for (String f : forms) {
                if (!List.of("forward", "dx", "dw").contains(f)) {
                    throw new IllegalArgumentException("form must be forward, dx or dw, got " + f);
                }
                cases.add(new Case(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]), f));
            }
        }
        System.out.println("# java " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors()
                + " processors");
        jitWarmup(jitWarmup);
        for (int t : threads) {
            try (Parallel parallel = new Parallel(t)) {
                Gemm gemm = new Gemm(parallel);
                if (!gemm.vectorized()) {
                    System.out.println("# WARNING: scalar fallback (run with --add-modules jdk.incubator.vector)");
                }
                for (Case c : cases) {
                    run(gemm, c, t, warmup, reps, repTime);
                }
            }
        }
    }

    /**
     * Runs all three forms on small odd shapes on 1 and 2 threads for {@code seconds}, so that the JIT has compiled
     * every GEMM path before the first timed case (on a loaded machine it needs more than the per-case warm-up).
     */
    private static void jitWarmup(double seconds) {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        Case[] cases = {new Case(203, 301, 129, "forward"), new Case(203, 301, 129, "dx"),
                new Case(203, 301, 129, "dw")};
        try (Parallel one = new Parallel(1); Parallel two = new Parallel(2)) {
            Gemm[] gemms = {new Gemm(one), new Gemm(two)};
            while (System.nanoTime() < end) {
                for (Gemm g : gemms) {
                    for (Case c : cases) {
                        run(g, c, g.parallel().threads(), 0.0, 1, 0.0, false);
                    }
                }
            }
        }
    }

    private static void run(Gemm gemm, Case cs, int threads, double warmup, int reps, double repTime) {
        run(gemm, cs, threads, warmup, reps, repTime, true);
    }

    private static void run(Gemm gemm, Case cs, int threads, double warmup, int reps, double repTime,
                            boolean print) {
        Runnable call = operands(gemm, cs, new SplittableRandom(42)).call();
        double flops = 2.0 * cs.m() * cs.n() * cs.k();
        long end = System.nanoTime() + (long) (warmup * 1e9);
        int calls = 0;
        long t0 = System.nanoTime();
        do {
            call.run();
            calls++;
        } while (System.nanoTime() < end);
        double perCall = (System.nanoTime() - t0) / 1e9 / calls;
        int batch = Math.max(1, (int) Math.ceil(repTime / perCall));
        double[] gflops = new double[reps];
        double[] cpuGflops = new double[reps];
        for (int r = 0; r < reps; r++) {
            long cpu = processCpuNanos();
            long s = System.nanoTime();
            for (int i = 0; i < batch; i++) {
                call.run();
            }
            gflops[r] = flops * batch / (System.nanoTime() - s);
            cpuGflops[r] = flops * batch * threads / (processCpuNanos() - cpu);
        }
        Arrays.sort(gflops);
        Arrays.sort(cpuGflops);
        if (!print) {
            return;
        }
        System.out.println(String.format(Locale.ROOT,
                "RESULT shape=%d:%d:%d form=%s threads=%d m=%d n=%d k=%d gflops=%.1f min=%.1f max=%.1f cpu=%.1f calls=%d",
                cs.tokens(), cs.in(), cs.out(), cs.form(), threads, cs.m(), cs.n(), cs.k(), gflops[reps / 2], gflops[0],
                gflops[reps - 1], cpuGflops[reps / 2], batch));
    }

    /** CPU time of the whole process (all threads), to see through the load of a shared machine. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** The output C of a case's call, and the call {@code C += op(A)·op(B)} on {@code gemm}. */
    record Operands(float[] output, Runnable call) {
    }

    /** X, W and dY of a case uniform in [−1, 1) from {@code random}, a zeroed output, and the call. */
    static Operands operands(Gemm gemm, Case cs, SplittableRandom random) {
        int tokens = cs.tokens();
        int in = cs.in();
        int out = cs.out();
        float[] x = BenchSupport.uniform(random, tokens * in, -1, 1);   // (N, in)
        float[] w = BenchSupport.uniform(random, out * in, -1, 1);      // (out, in)
        float[] dy = BenchSupport.uniform(random, tokens * out, -1, 1); // (N, out)
        return switch (cs.form()) {
            case "forward" -> {
                float[] y = new float[tokens * out]; // (N, out)
                Matrix c = Matrix.of(y, 0, tokens, out);
                Matrix a = Matrix.of(x, 0, tokens, in);
                Matrix b = Matrix.of(w, 0, out, in).t();
                yield new Operands(y, () -> gemm.multiply(c, a, b));
            }
            case "dx" -> {
                float[] dx = new float[tokens * in]; // (N, in)
                Matrix c = Matrix.of(dx, 0, tokens, in);
                Matrix a = Matrix.of(dy, 0, tokens, out);
                Matrix b = Matrix.of(w, 0, out, in);
                yield new Operands(dx, () -> gemm.multiply(c, a, b));
            }
            case "dw" -> {
                float[] dw = new float[out * in]; // (out, in)
                Matrix c = Matrix.of(dw, 0, out, in);
                Matrix a = Matrix.of(dy, 0, tokens, out).t();
                Matrix b = Matrix.of(x, 0, tokens, in);
                yield new Operands(dw, () -> gemm.multiply(c, a, b));
            }
            default -> throw new IllegalArgumentException("form must be forward, dx or dw, got " + cs.form());
        };
    }
}
