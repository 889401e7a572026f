package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class ConvOpsTest {

    @ParameterizedTest(name = "stride {0}, padding {1}")
    @CsvSource({"1, 0", "1, 1", "2, 0", "2, 1"})
    void convGradientsMatchFiniteDifferences(int stride, int padding) {
        Tensor x = GradCheck.random(1, 1f, 2, 3, 7, 5); // (N, Cin, H, W), odd sizes
        Tensor w = GradCheck.random(2, 0.5f, 4, 3, 3, 2); // (Cout, Cin, KH, KW)
        Tensor b = GradCheck.random(3, 0.5f, 4);
        GradCheck.check(t -> Conv2dOp.forward(t, x, w, b, stride, padding), List.of(x, w, b), 1e-2, 2e-3);
    }

    @Test
    void convWithoutBiasMatchesFiniteDifferences() {
        Tensor x = GradCheck.random(4, 1f, 1, 2, 5, 5);
        Tensor w = GradCheck.random(5, 0.5f, 3, 2, 3, 3);
        GradCheck.check(t -> Conv2dOp.forward(t, x, w, null, 1, 1), List.of(x, w), 1e-2, 2e-3);
    }

    @ParameterizedTest(name = "kernel {0}, stride {1}")
    @CsvSource({"2, 2", "3, 2", "2, 1"})
    void poolingGradientsMatchFiniteDifferences(int kernel, int stride) {
        Tensor x = GradCheck.random(6, 1f, 2, 3, 7, 6);
        // distinct values 0.01 apart in a scrambled order: no window's maximum changes under a ±1e-3 nudge
        for (int i = 0; i < x.size(); i++) {
            x.set(i, ((i * 97) % x.size() - x.size() / 2) * 0.01f);
        }
        GradCheck.check(t -> MaxPool2dOp.forward(t, x, kernel, stride), List.of(x), 1e-3, 2e-3);
        GradCheck.check(t -> AvgPool2dOp.forward(t, x, kernel, stride), List.of(x), 1e-2, 2e-3);
    }

    @ParameterizedTest(name = "stride {0}, padding {1}, threads {2}")
    @CsvSource({"1, 0, 1", "1, 1, 2", "2, 1, 1", "3, 2, 2"})
    void im2colForwardEqualsDirectConvolutionBitForBit(int stride, int padding, int threads) {
        Tensor x = GradCheck.random(11, 1f, 3, 5, 11, 9);
        Tensor w = GradCheck.random(12, 0.5f, 7, 5, 3, 4);
        Tensor b = GradCheck.random(13, 0.5f, 7);
        try (Compute c = new Compute(threads)) {
            Tape tape = new Tape(c, new Arena());
            Tensor y = Conv2dOp.forward(tape, x, w, b, stride, padding);
            float[] expected = direct(x, w, b, stride, padding);
            assertEquals(expected.length, y.size());
            for (int i = 0; i < expected.length; i++) {
                if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(y.get(i))) {
                    fail("output " + i + ": im2col " + y.get(i) + " vs direct " + expected[i]);
                }
            }
        }
    }

    /**
     * The 7-loop oracle: y[n,o,i,j] = b[o] + Σ_{c,u,v} w·x, one fma chain from the bias in (c, u, v) order with
     * zeros for padding — the order im2col + GEMM promises.
     */
    private static float[] direct(Tensor x, Tensor w, Tensor b, int s, int p) {
        int n = x.dim(0);
        int cin = x.dim(1);
        int h = x.dim(2);
        int wd = x.dim(3);
        int cout = w.dim(0);
        int kh = w.dim(2);
        int kw = w.dim(3);
        int ho = (h + 2 * p - kh) / s + 1;
        int wo = (wd + 2 * p - kw) / s + 1;
        float[] y = new float[n * cout * ho * wo];
        for (int ex = 0; ex < n; ex++) {
            for (int o = 0; o < cout; o++) {
                for (int i = 0; i < ho; i++) {
                    for (int j = 0; j < wo; j++) {
                        float acc = b.get(o);
                        for (int c = 0; c < cin; c++) {
                            for (int u = 0; u < kh; u++) {
                                for (int v = 0; v < kw; v++) {
                                    int r = i * s + u - p;
                                    int q = j * s + v - p;
                                    float xv = r >= 0 && r < h && q >= 0 && q < wd
                                            ? x.get(((ex * cin + c) * h + r) * wd + q) : 0f;
                                    acc = Math.fma(w.get(((o * cin + c) * kh + u) * kw + v), xv, acc);
                                }
                            }
                        }
                        y[((ex * cout + o) * ho + i) * wo + j] = acc;
                    }
                }
            }
        }
        return y;
    }

    @Test
    void poolingForwardValues() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            Tensor x = Tensor.of(new float[] {1, 5, 2, 0, 3, 4, -1, 8, 7, 6, 0, 0, 1, 2, 3, 9}, 1, 1, 4, 4);
            assertArrayEquals(new float[] {5, 8, 7, 9}, MaxPool2dOp.forward(tape, x, 2, 2).toArray());
            assertArrayEquals(new float[] {3.25f, 2.25f, 4f, 3f}, AvgPool2dOp.forward(tape, x, 2, 2).toArray());
        }
    }

    /** Law 3: dW and db of 6 examples in one call equal, bit for bit, calls of 2 then 4 into the same buffer. */
    @ParameterizedTest(name = "threads {0}")
    @CsvSource({"1", "2"})
    void weightAndBiasGradientsAreSplitInvariant(int threads) {
        int n = 6;
        int[] xs = {n, 3, 30, 30}; // 900 positions: the GEMM's reduction crosses k-blocks
        Tensor x = GradCheck.random(21, 1f, xs);
        Tensor w = GradCheck.random(22, 0.5f, 8, 3, 3, 3);
        Tensor b = GradCheck.random(23, 0.5f, 8);
        Tensor dyAll = GradCheck.random(24, 1f, n, 8, 30, 30);
        int per = dyAll.size() / n;
        int plane = x.size() / n;
        try (Compute c = new Compute(threads)) {
            w.grad().fill(0.25f); // start from a non-zero buffer: the chain continues from its value
            b.grad().fill(-0.5f);
            runSlice(c, x, w, b, dyAll, 0, n, plane, per);
            float[] dwWhole = w.grad().toArray();
            float[] dbWhole = b.grad().toArray();
            float[] dxWhole = x.grad().toArray();
            w.grad().fill(0.25f);
            b.grad().fill(-0.5f);
            x.grad().fill(0f);
            runSlice(c, x, w, b, dyAll, 0, 2, plane, per);
            runSlice(c, x, w, b, dyAll, 2, 4, plane, per);
            assertBitsEqual("dW", dwWhole, w.grad().toArray());
            assertBitsEqual("db", dbWhole, b.grad().toArray());
            assertBitsEqual("dx", dxWhole, x.grad().toArray());
        }
    }

    private static void runSlice(Compute c, Tensor x, Tensor w, Tensor b, Tensor dy, int from, int count, int plane,
                                 int per) {
        Tape tape = new Tape(c, new Arena());
        Tensor xs = new Tensor(x.data(), x.offset() + from * plane, count, x.dim(1), x.dim(2), x.dim(3));
        xs.setGrad(new Tensor(x.grad().data(), x.grad().offset() + from * plane, xs.shape()));
        Tensor y = Conv2dOp.forward(tape, xs, w, b, 1, 1);
        float[] slice = new float[count * per];
        System.arraycopy(dy.data(), dy.offset() + from * per, slice, 0, slice.length);
        tape.grad(y).copyFrom(slice);
        tape.backward();
    }

    private static void assertBitsEqual(String what, float[] a, float[] b) {
        assertEquals(a.length, b.length, what + " length");
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                fail(what + " differs first at " + i + ": " + a[i] + " vs " + b[i]);
            }
        }
    }

    /** Chunks of the micro-batch (one example, two, all) give the same y, dx, dW and db bits. */
    @ParameterizedTest(name = "threads {0}")
    @CsvSource({"1", "2"})
    void chunksOfTheBatchChangeNoBit(int threads) {
        Tensor x = GradCheck.random(31, 1f, 5, 3, 9, 8);
        Tensor w = GradCheck.random(32, 0.5f, 6, 3, 3, 3);
        Tensor b = GradCheck.random(33, 0.5f, 6);
        Tensor dy = GradCheck.random(34, 1f, 5, 6, 9, 8);
        int perExample = 3 * 9 * 9 * 8;
        float[][] whole = null;
        for (int chunk : new int[] {5, 2, 1}) {
            x.grad().fill(0f);
            w.grad().fill(0.25f);
            b.grad().fill(-0.5f);
            try (Compute c = new Compute(threads)) {
                Tape tape = new Tape(c, new Arena());
                Tensor y = Conv2dOp.forward(tape, x, w, b, 1, 1, chunk * perExample);
                tape.grad(y).copyFrom(dy.toArray());
                float[] out = y.toArray();
                tape.backward();
                float[][] got = {out, x.grad().toArray(), w.grad().toArray(), b.grad().toArray()};
                if (whole == null) {
                    whole = got;
                }
                String[] what = {"y", "dx", "dW", "db"};
                for (int i = 0; i < what.length; i++) {
                    assertBitsEqual(what[i] + " in chunks of " + chunk, whole[i], got[i]);
                }
            }
        }
    }

    @Test
    void badShapesNameTheShapes() {
        try (Compute c = new Compute(1)) {
            Tape tape = new Tape(c, new Arena());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2dOp.forward(tape, Tensor.zeros(2, 3, 8, 8), Tensor.zeros(4, 2, 3, 3), null, 1, 0));
            assertTrue(e.getMessage().contains("[2, 3, 8, 8]") && e.getMessage().contains("[4, 2, 3, 3]"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2dOp.forward(tape, Tensor.zeros(2, 3, 2, 2), Tensor.zeros(4, 3, 5, 5), null, 1, 0));
            assertTrue(e.getMessage().contains("[2, 3, 2, 2]") && e.getMessage().contains("[4, 3, 5, 5]"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2dOp.forward(tape, Tensor.zeros(2, 3, 8, 8), Tensor.zeros(4, 3, 3, 3),
                            Tensor.zeros(5), 1, 0));
            assertTrue(e.getMessage().contains("[5]") && e.getMessage().contains("[4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2dOp.forward(tape, Tensor.zeros(2, 8, 8), Tensor.zeros(4, 2, 3, 3), null, 1, 0));
            assertTrue(e.getMessage().contains("[2, 8, 8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> MaxPool2dOp.forward(tape, Tensor.zeros(2, 3, 8), 2, 2));
            assertTrue(e.getMessage().contains("[2, 3, 8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> AvgPool2dOp.forward(tape, Tensor.zeros(1, 1, 3, 3), 4, 1));
            assertTrue(e.getMessage().contains("[1, 1, 3, 3]"), e.getMessage());
        }
    }
}
