package io.accrue.bench;

import io.accrue.tensor.gemm.Gemm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@link Gemm#multiply} in the three forms of a linear layer with W (out, in) and {@code tokens} rows, as
 * {@link GemmBench} (the hand-written harness that compares with numpy) names them:
 *
 * <pre>
 * forward  Y  += X·Wᵀ   m=tokens, n=out, k=in      (transA=false, transB=true)
 * dx       dX += dY·W   m=tokens, n=in,  k=out     (false, false)
 * dw       dW += dYᵀ·X  m=out,    n=in,  k=tokens  (true, false)
 * </pre>
 *
 * Shapes {@code tokens:in:out}: GPT small (C = 384, 8 sequences of 256 tokens) — attention qkv 384→1152,
 * attention projection 384→384, MLP 384→1536 and 1536→384 — and the MLP's first layer 784→1024 at micro-batches
 * of 8 and 64 rows. Mode throughput: the score is calls/s, and the secondary result {@code gflop} is GFLOP/s
 * directly (each call counts 2·m·n·k flops, the same for the three forms of a shape).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class GemmJmh extends KernelBench {
    /** {@code tokens:in:out}. */
    @Param({"2048:384:1152", "2048:384:384", "2048:384:1536", "2048:1536:384", "8:784:1024", "64:784:1024"})
    public String gemm;

    @Param({"forward", "dx", "dw"})
    public String form;

    @Param({"1", "2"})
    public int threads;

    private float[] output;
    private Runnable call;
    private double gflopPerCall;

    /** GFLOP done, reported by JMH per second (throughput mode): GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
        }
    }

    @Setup
    public void setup() {
        int[] d = dims(gemm);
        GemmBench.Case cs = new GemmBench.Case(d[0], d[1], d[2], form);
        GemmBench.Operands operands = GemmBench.operands(compute(threads).gemm(), cs, random());
        output = operands.output();
        call = operands.call();
        gflopPerCall = 2.0 * cs.m() * cs.n() * cs.k() / 1e9;
    }

    /** One {@code Gemm.multiply} call (through the one lambda of this trial, a monomorphic call). */
    @Benchmark
    public float[] multiply(Flops flops) {
        call.run();
        flops.gflop += gflopPerCall;
        return output;
    }
}
