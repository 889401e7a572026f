package io.accrue.bench;

import io.accrue.autograd.AttentionOp;
import io.accrue.autograd.Tape;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Fused causal self-attention ({@link AttentionOp}, built on {@code AttentionKernels}) through a {@link Tape}, as
 * the trainer runs it: {@code forward} alone (qkv needs no gradient, so nothing is recorded) and
 * {@code forwardBackward} (forward, then backward from a fixed dY into a fixed dqkv buffer). The tape's arena is
 * reset after each call and reused, so after the first call no activation storage is allocated.
 *
 * <p>Default shape: GPT small, 8 sequences of 256 tokens, C = 384, 6 heads of 64.
 */
public class AttentionJmh extends KernelBench {
    /** {@code batch:context:width:heads}. */
    @Param({"8:256:384:6"})
    public String attention;

    @Param({"1", "2"})
    public int threads;

    private int heads;
    private Tape tape;
    private Tensor qkv;      // (B, T, 3C) without gradient
    private Tensor qkvGrad;  // the same values, with a fixed gradient buffer
    private Tensor dy;       // (B, T, C)

    @Setup
    public void setup() {
        int[] d = dims(attention);
        int b = d[0];
        int t = d[1];
        int c = d[2];
        heads = d[3];
        tape = new Tape(compute(threads), new Arena());
        float[] values = uniform(b * t * 3 * c, -1, 1);
        qkv = new Tensor(values, 0, b, t, 3 * c);
        qkvGrad = new Tensor(values, 0, b, t, 3 * c);
        qkvGrad.setGrad(Tensor.zeros(b, t, 3 * c));
        dy = new Tensor(uniform(b * t * c, -1, 1), 0, b, t, c);
    }

    @Benchmark
    public Tensor forward() {
        Tensor y = AttentionOp.forward(tape, qkv, heads);
        tape.reset();
        return y;
    }

    @Benchmark
    public Tensor forwardBackward() {
        Tensor y = AttentionOp.forward(tape, qkvGrad, heads);
        y.setGrad(dy);
        tape.backward();
        tape.reset();
        return qkvGrad.grad();
    }
}
