package io.accrue.bench;

import io.accrue.tensor.Elementwise;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The deterministic exp of {@link Elementwise} over {@code exp} elements in [−10, 10]: {@code scalar} calls
 * {@link Elementwise#exp(float)} per element (what the scalar paths use, left to the JIT), {@code expSum} is
 * {@link Elementwise#expSum} (the Vector API exp, the sum widened to double in column order, as softmax
 * cross-entropy uses it). The package-private vector exp itself has no public entry point of its own.
 */
public class ExpJmh extends KernelBench {
    /** Number of elements. */
    @Param({"65536"})
    public int exp;

    private float[] x;
    private float[] y;

    @Setup
    public void setup() {
        x = uniform(exp, -10, 10);
        y = new float[exp];
    }

    @Benchmark
    public float[] scalar() {
        for (int i = 0; i < exp; i++) {
            y[i] = Elementwise.exp(x[i]);
        }
        return y;
    }

    @Benchmark
    public double expSum() {
        return Elementwise.expSum(x, 0, exp, 0f);
    }
}
