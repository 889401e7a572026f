package io.accrue.bench;

import io.accrue.tensor.elementwise.Elementwise;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * GELU ({@link Elementwise#gelu(float[], int, float[], int, int)} and {@link Elementwise#geluBackward}, the
 * kernels of {@code GeluOp}) over {@code gelu} elements on one thread. Default: GPT small's MLP activation, 2048
 * tokens × 1536.
 */
public class GeluJmh extends KernelBench {
    /** Number of elements. */
    @Param({"3145728"})
    public int gelu;

    private float[] x;
    private float[] dy;
    private float[] y;
    private float[] dx;
    private Elementwise kernels;

    @Setup
    public void setup() {
        x = uniform(gelu, -4, 4);
        dy = uniform(gelu, -1, 1);
        y = new float[gelu];
        dx = new float[gelu];
        kernels = new Elementwise(1);
    }

    @Benchmark
    public float[] forward() {
        Elementwise.gelu(y, 0, x, 0, gelu);
        return y;
    }

    @Benchmark
    public float[] backward() {
        kernels.geluBackward(0, dx, 0, true, dy, 0, x, 0, gelu);
        return dx;
    }
}
