package io.accrue.bench;

import io.accrue.tensor.elementwise.Elementwise;
import io.accrue.tensor.elementwise.Exp;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The deterministic exp ({@link Exp}) over {@code exp} elements in [−10, 10]: {@code scalar} calls
 * {@link Exp#exp(float)} per element (what the scalar paths use, left to the JIT), {@code expSum} is
 * {@link Elementwise#expSum} (the Vector API exp, {@code VectorExp}, the sum widened to double in column order, as
 * softmax cross-entropy uses it).
 */
public class ExpJmh extends KernelBench {
    /** Number of elements. */
    @Param({"65536"})
    public int exp;

    private float[] x;
    private float[] y;
    private Elementwise kernels;

    @Setup
    public void setup() {
        x = uniform(exp, -10, 10);
        y = new float[exp];
        kernels = new Elementwise(1);
    }

    @Benchmark
    public float[] scalar() {
        for (int i = 0; i < exp; i++) {
            y[i] = Exp.exp(x[i]);
        }
        return y;
    }

    @Benchmark
    public double expSum() {
        return kernels.expSum(0, x, 0, exp, 0f);
    }
}
