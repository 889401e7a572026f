package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NormOpsTest {
    private static final double FD_EPS = 1e-2;
    private static final double TOL = 3e-3;

    // ---- finite-difference gradient checks ----

    @Test
    void layerNormGradients() {
        Tensor x = GradCheck.random(1, 1f, 2, 3, 6);
        Tensor gamma = GradCheck.random(2, 1f, 6);
        Tensor beta = GradCheck.random(3, 1f, 6);
        GradCheck.check(t -> LayerNormOp.forward(t, x, gamma, beta, 1e-5f), List.of(x, gamma, beta), FD_EPS, TOL);
    }

    @Test
    void rmsNormGradients() {
        Tensor x = GradCheck.random(4, 1f, 4, 6);
        Tensor gamma = GradCheck.random(5, 1f, 6);
        GradCheck.check(t -> RmsNormOp.forward(t, x, gamma, 1e-5f), List.of(x, gamma), FD_EPS, TOL);
    }

    @Test
    void groupNormGradientsRank2() {
        Tensor x = GradCheck.random(6, 1f, 3, 6);
        Tensor gamma = GradCheck.random(7, 1f, 6);
        Tensor beta = GradCheck.random(8, 1f, 6);
        // groups of 3 values are strongly curved: a smaller step keeps the finite difference's truncation small
        GradCheck.check(t -> GroupNormOp.forward(t, x, 2, gamma, beta, 1e-5f), List.of(x, gamma, beta), 2e-3, TOL);
    }

    @Test
    void groupNormGradientsRank4() {
        Tensor x = GradCheck.random(9, 1f, 2, 4, 3, 3);
        Tensor gamma = GradCheck.random(10, 1f, 4);
        Tensor beta = GradCheck.random(11, 1f, 4);
        GradCheck.check(t -> GroupNormOp.forward(t, x, 2, gamma, beta, 1e-5f), List.of(x, gamma, beta), FD_EPS, TOL);
    }

    @Test
    void groupNormWithReluGradients() {
        Tensor x = GradCheck.random(12, 1f, 2, 4, 3, 3);
        Tensor gamma = GradCheck.random(13, 1f, 4);
        Tensor beta = GradCheck.random(14, 1f, 4);
        GradCheck.check(t -> GroupNormOp.forward(t, x, 2, gamma, beta, 1e-5f, true), List.of(x, gamma, beta), FD_EPS,
                TOL);
    }

    /** The fused op's output equals group norm then ReLU, bit for bit; a third of the outputs are cut to 0. */
    @Test
    void groupNormWithReluIsGroupNormThenRelu() {
        Tensor x = GradCheck.random(15, 1f, 3, 8, 5, 7);
        Tensor gamma = GradCheck.random(16, 1f, 8);
        Tensor beta = GradCheck.random(17, 1f, 8);
        try (Compute c = new Compute(2)) {
            Tape tape = new Tape(c, new Arena());
            float[] fused = GroupNormOp.forward(tape, x, 4, gamma, beta, 1e-5f, true).toArray();
            float[] apart = ReluOp.forward(tape, GroupNormOp.forward(tape, x, 4, gamma, beta, 1e-5f)).toArray();
            assertBits(apart, fused, "fused group norm + ReLU");
            long zeros = IntStream.range(0, fused.length).filter(i -> fused[i] == 0f).count();
            assertTrue(zeros > fused.length / 5, zeros + " of " + fused.length + " outputs cut");
        }
    }

    @Test
    void batchNormGradientsTraining() {
        Tensor x = GradCheck.random(12, 1f, 4, 3, 2);
        Tensor gamma = GradCheck.random(13, 1f, 3);
        Tensor beta = GradCheck.random(14, 1f, 3);
        RunningStats stats = new RunningStats(3, 0.1f);
        GradCheck.check(t -> BatchNormOp.forward(t, x, gamma, beta, stats, 1e-5f), List.of(x, gamma, beta),
                FD_EPS, TOL);
    }

    @Test
    void batchNormGradientsTrainingRank2() {
        Tensor x = GradCheck.random(15, 1f, 5, 3);
        Tensor gamma = GradCheck.random(16, 1f, 3);
        Tensor beta = GradCheck.random(17, 1f, 3);
        RunningStats stats = new RunningStats(3, 0.1f);
        GradCheck.check(t -> BatchNormOp.forward(t, x, gamma, beta, stats, 1e-5f), List.of(x, gamma, beta),
                FD_EPS, TOL);
    }

    @Test
    void batchNormGradientsEval() {
        Tensor x = GradCheck.random(18, 1f, 3, 3, 2);
        Tensor gamma = GradCheck.random(19, 1f, 3);
        Tensor beta = GradCheck.random(20, 1f, 3);
        RunningStats stats = new RunningStats(3, 0.1f);
        stats.mean()[0] = 0.3f;
        stats.mean()[2] = -0.2f;
        stats.var()[1] = 0.5f;
        stats.var()[2] = 2f;
        GradCheck.check(t -> {
            t.setTraining(false);
            return BatchNormOp.forward(t, x, gamma, beta, stats, 1e-5f);
        }, List.of(x, gamma, beta), FD_EPS, TOL);
        assertArrayEquals(new float[] {0.3f, 0f, -0.2f}, stats.mean(), "eval mode must not touch running stats");
        assertArrayEquals(new float[] {1f, 0.5f, 2f}, stats.var(), "eval mode must not touch running stats");
    }

    // ---- forward on hand-computed cases (eps = 0 so everything is exact) ----

    @Test
    void layerNormForwardByHand() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            // rows: mean 1, var 1 -> x̂ = [-1, -1, 1, 1]; mean 3, var 1 -> x̂ = [-1, 1, -1, 1]
            Tensor x = Tensor.of(new float[] {0, 0, 2, 2, 2, 4, 2, 4}, 2, 4);
            Tensor gamma = Tensor.of(new float[] {1, 2, 3, 4}, 4);
            Tensor beta = Tensor.of(new float[] {0.5f, 0, 0, -1}, 4);
            Tensor y = LayerNormOp.forward(tape, x, gamma, beta, 0f);
            assertArrayEquals(new float[] {-0.5f, -2, 3, 3, -0.5f, 2, -3, 3}, y.toArray());
        }
    }

    @Test
    void rmsNormForwardByHand() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            // rows: mean(x²) = 4 -> rstd 1/2; mean(x²) = 1 -> rstd 1
            Tensor x = Tensor.of(new float[] {2, -2, 2, -2, 1, 1, -1, 1}, 2, 4);
            Tensor gamma = Tensor.of(new float[] {1, 2, 3, 4}, 4);
            Tensor y = RmsNormOp.forward(tape, x, gamma, 0f);
            assertArrayEquals(new float[] {1, -2, 3, -4, 1, 2, -3, 4}, y.toArray());
        }
    }

    @Test
    void groupNormForwardByHand() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            // (1, 4), 2 groups: [0, 2] -> x̂ [-1, 1]; [5, 7] -> x̂ [-1, 1]
            Tensor x = Tensor.of(new float[] {0, 2, 5, 7}, 1, 4);
            Tensor gamma = Tensor.of(new float[] {1, 2, 3, 4}, 4);
            Tensor beta = Tensor.of(new float[] {0, 0, 1, 1}, 4);
            assertArrayEquals(new float[] {-1, 2, -2, 5}, GroupNormOp.forward(tape, x, 2, gamma, beta, 0f).toArray());
            // (2, 2, 2), 1 group: example 0 [0, 0, 2, 2] -> x̂ [-1, -1, 1, 1]; example 1 [1, 3, 1, 3] -> [-1, 1, -1, 1]
            Tensor x3 = Tensor.of(new float[] {0, 0, 2, 2, 1, 3, 1, 3}, 2, 2, 2);
            Tensor g2 = Tensor.of(new float[] {1, 2}, 2);
            Tensor b2 = Tensor.of(new float[] {0, 1}, 2);
            assertArrayEquals(new float[] {-1, -1, 3, 3, -1, 1, -1, 3},
                    GroupNormOp.forward(tape, x3, 1, g2, b2, 0f).toArray());
        }
    }

    @Test
    void batchNormForwardAndRunningStatsByHand() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            // channel 0: [0, 2] -> mean 1, biased var 1, unbiased 2; channel 1: [3, 7] -> mean 5, var 4, unbiased 8
            Tensor x = Tensor.of(new float[] {0, 3, 2, 7}, 2, 2);
            Tensor gamma = Tensor.of(new float[] {1, 2}, 2);
            Tensor beta = Tensor.of(new float[] {0, 1}, 2);
            RunningStats stats = new RunningStats(2, 0.1f);
            assertArrayEquals(new float[] {0, 0}, stats.mean());
            assertArrayEquals(new float[] {1, 1}, stats.var());
            Tensor y = BatchNormOp.forward(tape, x, gamma, beta, stats, 0f);
            assertArrayEquals(new float[] {-1, -1, 1, 3}, y.toArray());
            assertEquals(0.1f, stats.mean()[0], 1e-6f);
            assertEquals(0.5f, stats.mean()[1], 1e-6f);
            assertEquals(0.9f * 1 + 0.1f * 2, stats.var()[0], 1e-6f);
            assertEquals(0.9f * 1 + 0.1f * 8, stats.var()[1], 1e-6f);
            // the same values as (N, C, S) = (1, 2, 2): statistics over N·S, a second update on top of the first
            Tensor xs = Tensor.of(new float[] {0, 2, 3, 7}, 1, 2, 2);
            assertArrayEquals(new float[] {-1, 1, -1, 3}, BatchNormOp.forward(tape, xs, gamma, beta, stats, 0f)
                    .toArray());
            assertEquals(0.9f * 0.1f + 0.1f * 1, stats.mean()[0], 1e-6f);
            assertEquals(0.9f * 0.5f + 0.1f * 5, stats.mean()[1], 1e-6f);
            assertEquals(0.9f * 1.1f + 0.1f * 2, stats.var()[0], 1e-6f);
            assertEquals(0.9f * 1.7f + 0.1f * 8, stats.var()[1], 1e-6f);
        }
    }

    @Test
    void batchNormEvalUsesRunningStats() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            tape.setTraining(false);
            RunningStats stats = new RunningStats(2, 0.1f);
            stats.mean()[0] = 1;
            stats.mean()[1] = 5;
            stats.var()[1] = 4;
            Tensor x = Tensor.of(new float[] {0, 3, 2, 7, 1, 5}, 3, 2);
            Tensor gamma = Tensor.of(new float[] {1, 2}, 2);
            Tensor beta = Tensor.of(new float[] {0, 1}, 2);
            Tensor y = BatchNormOp.forward(tape, x, gamma, beta, stats, 0f);
            assertArrayEquals(new float[] {-1, -1, 1, 3, 0, 1}, y.toArray());
            assertArrayEquals(new float[] {1, 5}, stats.mean());
            assertArrayEquals(new float[] {1, 4}, stats.var());
        }
    }

    // ---- row independence: a row alone gives the bits it gives inside a batch ----

    /** An op applied to x; gradients of parameters are not needed here. */
    private interface Op extends BiFunction<Tape, Tensor, Tensor> {
    }

    private static void assertRowIndependent(Op op, int... shape) {
        Tensor x = GradCheck.random(21, 2f, shape);
        float[] dyAll = GradCheck.random(22, 1f, shape).toArray();
        int rows = shape[0];
        int rowSize = x.size() / rows;
        float[][] batch = forwardBackward(op, x, dyAll);
        for (int r = 0; r < rows; r++) {
            int[] one = shape.clone();
            one[0] = 1;
            Tensor xr = GradCheck.random(0, 1f, one);
            xr.copyFrom(Arrays.copyOfRange(x.toArray(), r * rowSize, (r + 1) * rowSize));
            float[] dyr = Arrays.copyOfRange(dyAll, r * rowSize, (r + 1) * rowSize);
            float[][] alone = forwardBackward(op, xr, dyr);
            assertBits(Arrays.copyOfRange(batch[0], r * rowSize, (r + 1) * rowSize), alone[0], "y of row " + r);
            assertBits(Arrays.copyOfRange(batch[1], r * rowSize, (r + 1) * rowSize), alone[1], "dx of row " + r);
        }
    }

    /** Runs op forward and backward (seeded with dy) on a fresh tape; returns {y, dx}. */
    private static float[][] forwardBackward(Op op, Tensor x, float[] dy) {
        try (Compute c = new Compute(2)) {
            Tape tape = new Tape(c, new Arena());
            x.grad().fill(0f);
            Tensor y = op.apply(tape, x);
            tape.grad(y).copyFrom(dy);
            tape.backward();
            return new float[][] {y.toArray(), x.grad().toArray()};
        }
    }

    @Test
    void layerNormRowsAreIndependent() {
        Tensor gamma = GradCheck.random(23, 1f, 37);
        Tensor beta = GradCheck.random(24, 1f, 37);
        assertRowIndependent((t, x) -> LayerNormOp.forward(t, x, gamma, beta, 1e-5f), 5, 37);
    }

    @Test
    void rmsNormRowsAreIndependent() {
        Tensor gamma = GradCheck.random(25, 1f, 37);
        assertRowIndependent((t, x) -> RmsNormOp.forward(t, x, gamma, 1e-5f), 5, 37);
    }

    @Test
    void groupNormExamplesAreIndependent() {
        Tensor gamma = GradCheck.random(26, 1f, 6);
        Tensor beta = GradCheck.random(27, 1f, 6);
        assertRowIndependent((t, x) -> GroupNormOp.forward(t, x, 3, gamma, beta, 1e-5f), 5, 6, 3, 5);
    }

    // ---- split invariance of dγ/dβ (law 3): 6 rows at once = 2 rows then 4 rows into the same buffer ----

    private static void assertSplitInvariant(Op op, List<Tensor> params, int... shape) {
        Tensor x = GradCheck.random(31, 2f, shape);
        float[] dy = GradCheck.random(32, 1f, shape).toArray();
        int rowSize = x.size() / shape[0];
        float[][] start = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            start[i] = GradCheck.random(33 + i, 3f, params.get(i).shape()).toArray(); // non-zero buffer start
            params.get(i).grad().copyFrom(start[i]);
        }
        accumulate(op, x, dy, 0, shape[0], rowSize);
        float[][] whole = new float[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            whole[i] = params.get(i).grad().toArray();
            params.get(i).grad().copyFrom(start[i]);
        }
        accumulate(op, x, dy, 0, 2, rowSize);
        accumulate(op, x, dy, 2, shape[0], rowSize);
        for (int i = 0; i < params.size(); i++) {
            assertBits(whole[i], params.get(i).grad().toArray(), "gradient of parameter " + i);
        }
    }

    /** Forward + backward of rows [from, to) of x, adding into the parameters' gradient buffers. */
    private static void accumulate(Op op, Tensor x, float[] dy, int from, int to, int rowSize) {
        int[] shape = x.shape();
        shape[0] = to - from;
        Tensor part = Tensor.of(Arrays.copyOfRange(x.toArray(), from * rowSize, to * rowSize), shape);
        try (Compute c = new Compute(2)) {
            Tape tape = new Tape(c, new Arena());
            Tensor y = op.apply(tape, part);
            tape.grad(y).copyFrom(Arrays.copyOfRange(dy, from * rowSize, to * rowSize));
            tape.backward();
        }
    }

    @Test
    void layerNormParameterGradientsDoNotDependOnTheSplit() {
        Tensor gamma = GradCheck.random(41, 1f, 37);
        Tensor beta = GradCheck.random(42, 1f, 37);
        assertSplitInvariant((t, x) -> LayerNormOp.forward(t, x, gamma, beta, 1e-5f), List.of(gamma, beta), 6, 37);
    }

    @Test
    void rmsNormParameterGradientsDoNotDependOnTheSplit() {
        Tensor gamma = GradCheck.random(43, 1f, 37);
        assertSplitInvariant((t, x) -> RmsNormOp.forward(t, x, gamma, 1e-5f), List.of(gamma), 6, 37);
    }

    @Test
    void groupNormParameterGradientsDoNotDependOnTheSplit() {
        Tensor gamma = GradCheck.random(44, 1f, 6);
        Tensor beta = GradCheck.random(45, 1f, 6);
        assertSplitInvariant((t, x) -> GroupNormOp.forward(t, x, 2, gamma, beta, 1e-5f), List.of(gamma, beta),
                6, 6, 3, 5);
    }

    @Test
    void groupNormWithReluParameterGradientsDoNotDependOnTheSplit() {
        Tensor gamma = GradCheck.random(48, 1f, 6);
        Tensor beta = GradCheck.random(49, 1f, 6);
        assertSplitInvariant((t, x) -> GroupNormOp.forward(t, x, 3, gamma, beta, 1e-5f, true), List.of(gamma, beta),
                6, 6, 3, 5);
    }

    @Test
    void batchNormEvalParameterGradientsDoNotDependOnTheSplit() {
        Tensor gamma = GradCheck.random(46, 1f, 5);
        Tensor beta = GradCheck.random(47, 1f, 5);
        RunningStats stats = new RunningStats(5, 0.1f);
        stats.mean()[1] = 0.5f;
        stats.var()[3] = 3f;
        assertSplitInvariant((t, x) -> {
            t.setTraining(false);
            return BatchNormOp.forward(t, x, gamma, beta, stats, 1e-5f);
        }, List.of(gamma, beta), 6, 5, 7);
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + ", element " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    // ---- bad inputs ----

    @Test
    void badShapesAreNamed() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor x = Tensor.zeros(2, 6);
            Tensor g5 = Tensor.zeros(5);
            Tensor b6 = Tensor.zeros(6);
            assertNames(() -> LayerNormOp.forward(tape, x, g5, b6, 1e-5f), "[5]", "[2, 6]");
            assertNames(() -> LayerNormOp.forward(tape, x, b6, g5, 1e-5f), "beta", "[5]", "[2, 6]");
            assertNames(() -> RmsNormOp.forward(tape, x, g5, 1e-5f), "[5]", "[2, 6]");
            assertNames(() -> GroupNormOp.forward(tape, x, 2, g5, b6, 1e-5f), "[5]", "[2, 6]");
            assertNames(() -> BatchNormOp.forward(tape, x, g5, b6, new RunningStats(6, 0.1f), 1e-5f), "[5]", "[2, 6]");
            assertNames(() -> BatchNormOp.forward(tape, x, b6, b6, new RunningStats(4, 0.1f), 1e-5f), "4", "[2, 6]");
            assertNames(() -> GroupNormOp.forward(tape, Tensor.zeros(2, 6, 3), 4, b6, b6, 1e-5f), "C = 6",
                    "groups = 4");
            assertNames(() -> GroupNormOp.forward(tape, x, 0, b6, b6, 1e-5f), "C = 6", "groups = 0");
            assertNames(() -> BatchNormOp.forward(tape, Tensor.zeros(1, 6), b6, b6, new RunningStats(6), 1e-5f),
                    "[1, 6]");
        }
    }

    private static void assertNames(org.junit.jupiter.api.function.Executable call, String... parts) {
        var e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' should name " + p);
        }
    }
}
