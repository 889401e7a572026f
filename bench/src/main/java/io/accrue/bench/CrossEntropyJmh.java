package io.accrue.bench;

import io.accrue.tensor.elementwise.Elementwise;
import io.accrue.tensor.elementwise.Exp;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Softmax cross-entropy's row kernels on one thread, in the order {@code SoftmaxCrossEntropyOp} runs them:
 * {@code forward} per row {@link Elementwise#max}, {@link Elementwise#expSum} and the row loss; {@code backward}
 * per row {@link Elementwise#softmaxAdd} and the target column's correction, from the max and sum of one forward
 * pass in setup. Shapes {@code rows:vocab}: GPT small (2048 tokens, V = 65) and a GPT-2 vocabulary (256 tokens,
 * V = 50257).
 */
public class CrossEntropyJmh extends KernelBench {
    /** {@code rows:vocab}. */
    @Param({"2048:65", "256:50257"})
    public String crossEntropy;

    private int rows;
    private int v;
    private float[] logits;
    private int[] targets;
    private float[] loss;
    private float[] max;
    private float[] sum;
    private float[] dlogits;
    private Elementwise kernels;

    @Setup
    public void setup() {
        int[] d = dims(crossEntropy);
        rows = d[0];
        v = d[1];
        logits = uniform(rows * v, -8, 8);
        targets = indices(rows, v);
        loss = new float[rows];
        max = new float[rows];
        sum = new float[rows];
        dlogits = new float[rows * v];
        kernels = new Elementwise(1);
        forward();
    }

    @Benchmark
    public float[] forward() {
        for (int r = 0; r < rows; r++) {
            int base = r * v;
            float m = Elementwise.max(logits, base, v);
            double s = kernels.expSum(0, logits, base, v, m);
            max[r] = m;
            sum[r] = (float) s;
            loss[r] = (float) (m + Math.log(s) - logits[base + targets[r]]);
        }
        return loss;
    }

    @Benchmark
    public float[] backward() {
        for (int r = 0; r < rows; r++) {
            int base = r * v;
            int t = base + targets[r];
            float target = dlogits[t];
            kernels.softmaxAdd(0, dlogits, base, logits, base, v, max[r], sum[r]);
            dlogits[t] = target + (Exp.exp(logits[t] - max[r]) / sum[r] - 1f);
        }
        return dlogits;
    }
}
