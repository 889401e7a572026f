package io.accrue.bench;

import io.accrue.tensor.norm.NormKernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Layer norm's row kernels ({@link NormKernels}) over {@code rows} rows of C channels on one thread, as
 * {@code LayerNormOp} calls them: {@code forward} ({@code layerNormRow} per row: y, mean, rstd) and
 * {@code backward} ({@code layerNormBackwardRow} per row into dx, then {@code layerNormParamRow} per row into
 * dγ and dβ), from the mean and rstd of one forward pass in setup. Default: GPT small's 2048 tokens of C = 384.
 */
public class LayerNormJmh extends KernelBench {
    private static final float EPS = 1e-5f;

    /** {@code rows:channels}. */
    @Param({"2048:384"})
    public String layerNorm;

    private int rows;
    private int c;
    private float[] x;
    private float[] gamma;
    private float[] beta;
    private float[] dy;
    private float[] y;
    private float[] mean;
    private float[] rstd;
    private float[] dx;
    private float[] dgamma;
    private float[] dbeta;

    @Setup
    public void setup() {
        int[] d = dims(layerNorm);
        rows = d[0];
        c = d[1];
        x = uniform(rows * c, -2, 2);
        gamma = uniform(c, 0.5, 1.5);
        beta = uniform(c, -0.5, 0.5);
        dy = uniform(rows * c, -1, 1);
        y = new float[rows * c];
        mean = new float[rows];
        rstd = new float[rows];
        dx = new float[rows * c];
        dgamma = new float[c];
        dbeta = new float[c];
        forward();
    }

    @Benchmark
    public float[] forward() {
        for (int r = 0; r < rows; r++) {
            NormKernels.layerNormRow(y, r * c, mean, r, rstd, r, x, r * c, gamma, 0, beta, 0, c, EPS);
        }
        return y;
    }

    @Benchmark
    public float[] backward() {
        for (int r = 0; r < rows; r++) {
            NormKernels.layerNormBackwardRow(dx, r * c, x, r * c, dy, r * c, gamma, 0, mean[r], rstd[r], c);
        }
        for (int r = 0; r < rows; r++) {
            NormKernels.layerNormParamRow(dgamma, 0, dbeta, 0, x, r * c, dy, r * c, mean[r], rstd[r], 0, c);
        }
        return dx;
    }
}
