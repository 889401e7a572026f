package io.accrue.bench;

import io.accrue.tensor.elementwise.Elementwise;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The residual add ({@link Elementwise#add}, {@code AddOp}'s forward and backward) and the bias gradient's column
 * sums ({@link Elementwise#addColumnSums}, {@code LinearOp}'s backward) on one thread, inside one array as the
 * arena holds them. Default: GPT small at micro-batch 1, 256 tokens × 1536 (the MLP's hidden width).
 */
public class ResidualJmh extends KernelBench {
    /** Rows (tokens). */
    @Param({"256"})
    public int rows;
    /** Columns (features). */
    @Param({"1536"})
    public int cols;

    private float[] arena;

    @Setup
    public void setup() {
        arena = uniform(3 * rows * cols + cols, -1, 1);
    }

    @Benchmark
    public float[] add() {
        int n = rows * cols;
        Elementwise.add(arena, 2 * n, arena, 0, arena, n, n);
        return arena;
    }

    @Benchmark
    public float[] columnSums() {
        Elementwise.addColumnSums(arena, 3 * rows * cols, arena, 0, cols, rows, 0, cols);
        return arena;
    }
}
