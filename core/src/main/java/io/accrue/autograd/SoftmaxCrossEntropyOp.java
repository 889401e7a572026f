package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.elementwise.Elementwise;
import io.accrue.tensor.elementwise.Exp;

/**
 * Softmax cross-entropy per row, the tape's root: {@code loss_r = logsumexp(logits[r]) − logits[r][t_r]}
 * with {@code t_r = targets[r]}; logits (N, V), targets (N).
 *
 * <p>Rows whose target is {@code ignoreIndex} have loss 0 and are not counted. Law 2: backward is seeded with 1
 * per counted row — the gradient of the raw SUM, not the mean — and adds
 * {@code dlogits[r] += softmax(logits[r]) − onehot(t_r)} for counted rows only; the trainer divides by the
 * count once per step. Per row, the max is subtracted and {@code Σ exp(l − max)} is accumulated in double in
 * ascending column order ({@link Elementwise#expSum}): with V up to ~50k terms a float sum would lose ~log2(V)
 * bits. Each term is the deterministic float {@link Exp#exp} (a few ulp), vectorized; backward recomputes
 * the same terms and divides by the stored float sum, so a probability is within a few ulp of the exact one, and
 * each row has the same bits in any batch and on any path. {@code targets} is read again by backward: do not
 * modify it before then.
 */
public final class SoftmaxCrossEntropyOp {
    private SoftmaxCrossEntropyOp() {
    }

    public static Loss forward(Tape tape, Tensor logits, int[] targets, int ignoreIndex) {
        int n = logits.rows();
        int v = logits.cols();
        if (targets.length != n) {
            throw new IllegalArgumentException("cross-entropy: " + targets.length + " targets for " + n
                    + " rows of " + logits);
        }
        long count = 0;
        for (int r = 0; r < n; r++) {
            int t = targets[r];
            if (t == ignoreIndex) {
                continue;
            }
            if (t < 0 || t >= v) {
                throw new IllegalArgumentException("cross-entropy: target " + t + " of row " + r
                        + " is outside [0, " + v + ") (V = " + v + ", ignoreIndex = " + ignoreIndex + ")");
            }
            count++;
        }
        Tensor rows = tape.scratch(n); // (N) loss per row
        Tensor stats = tape.scratch(n, 2); // (N, 2) row max, Σ exp(l − max)
        if (logits.requiresGrad() && count > 0) {
            tape.record(() -> backward(tape, logits, targets, ignoreIndex, stats));
        }
        if (tape.planning()) {
            return new Loss(rows, count);
        }
        float[] ld = logits.data();
        float[] rd = rows.data();
        float[] sd = stats.data();
        int lo = logits.offset();
        int ro = rows.offset();
        int so = stats.offset();
        Elementwise kernels = tape.compute().elementwise();
        tape.compute().parallel().forParts(n, Math.max(1, AddOp.GRAIN / 8 / v), (part, from, to) -> {
            for (int r = from; r < to; r++) {
                int base = lo + r * v;
                float max = Elementwise.max(ld, base, v);
                double sum = kernels.expSum(part, ld, base, v, max);
                sd[so + 2 * r] = max;
                sd[so + 2 * r + 1] = (float) sum;
                int t = targets[r];
                rd[ro + r] = t == ignoreIndex ? 0f : (float) (max + Math.log(sum) - ld[base + t]);
            }
        });
        return new Loss(rows, count);
    }

    private static void backward(Tape tape, Tensor logits, int[] targets, int ignoreIndex, Tensor stats) {
        Tensor dl = tape.grad(logits); // (N, V)
        if (tape.planning()) {
            return;
        }
        int n = logits.rows();
        int v = logits.cols();
        float[] ld = logits.data();
        float[] gd = dl.data();
        float[] sd = stats.data();
        int lo = logits.offset();
        int go = dl.offset();
        int so = stats.offset();
        Elementwise kernels = tape.compute().elementwise();
        tape.compute().parallel().forParts(n, Math.max(1, AddOp.GRAIN / 8 / v), (part, from, to) -> {
            for (int r = from; r < to; r++) {
                int t = targets[r];
                if (t == ignoreIndex) {
                    continue;
                }
                int base = lo + r * v;
                int gbase = go + r * v;
                float max = sd[so + 2 * r];
                float sum = sd[so + 2 * r + 1];
                // dlogits[r] += softmax − onehot(t): the target's column gets (prob − 1) added in one rounding.
                float target = gd[gbase + t];
                kernels.softmaxAdd(part, gd, gbase, ld, base, v, max, sum);
                gd[gbase + t] = target + (Exp.exp(ld[base + t] - max) / sum - 1f);
            }
        });
    }
}
