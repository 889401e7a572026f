package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.elementwise.Elementwise;
import io.accrue.tensor.gemm.Gemm;

/**
 * {@code Y = X·Wᵀ + b}: X (N, in), W (out, in), b (out) or null, Y (N, out).
 *
 * <p>Forward computes Y = b + X·Wᵀ, each output's chain starting from its bias. Backward: {@code dX += dY·W} (or
 * {@code dX = dY·W} into a fresh gradient),
 * {@code dW += dYᵀ·X} and {@code db += Σ_rows dY} — the last two are sums over rows in ascending order that
 * continue from the gradient buffer's value (law 3). Both products by the weight go through Gemm's held weights
 * ({@link Gemm#linearForward}, {@link Gemm#linearInputGradient}): while the trainer holds the weights, Wᵀ and W are
 * each packed once per window.
 */
public final class LinearOp {
    private LinearOp() {
    }

    public static Tensor forward(Tape tape, Tensor x, Tensor w, Tensor b) {
        int in = x.cols();
        if (w.rank() != 2 || w.dim(1) != in) {
            throw new IllegalArgumentException("linear: input " + x + " does not match weight " + w
                    + " (weight must be (out, " + in + "))");
        }
        int out = w.dim(0);
        if (b != null) {
            b.requireShape("linear bias", out);
        }
        int[] yShape = x.shape();
        yShape[yShape.length - 1] = out;
        Tensor y = tape.output(yShape);
        tape.record(() -> backward(tape, x, w, b, y));
        if (tape.planning()) {
            tape.dryRun().weightProduct(w, x.rows(), in, out, true); // the product below, by Wᵀ
            return y;
        }
        // Y = b (each row) + X·Wᵀ: the chains start from the bias, or from 0 without one.
        tape.compute().gemm().linearForward(y, b, x, w);
        return y;
    }

    private static void backward(Tape tape, Tensor x, Tensor w, Tensor b, Tensor y) {
        Gemm gemm = tape.compute().gemm();
        Tensor dy = tape.grad(y);
        int n = x.rows();
        int in = x.cols();
        int out = w.dim(0);
        Tensor fresh = x.requiresGrad() ? tape.freshGrad(x) : null;
        Tensor dx = fresh != null ? fresh : x.requiresGrad() ? tape.grad(x) : null;
        Tensor dw = w.requiresGrad() ? tape.grad(w) : null;
        Tensor db = b != null && b.requiresGrad() ? tape.grad(b) : null;
        if (tape.planning()) {
            if (dx != null) {
                tape.dryRun().weightProduct(w, n, out, in, false); // dX's product below, by W
            }
            return;
        }
        if (dx != null) {
            // dX = dY·W into a fresh gradient (chains from 0), else dX += dY·W
            gemm.linearInputGradient(dx, fresh == null, dy, w);
        }
        if (dw != null) {
            gemm.linearWeightGradient(dw, dy, x);
        }
        if (db != null) {
            Elementwise.addRowSums(tape.compute().parallel(), db, dy);
        }
    }
}
