package io.accrue.autograd;

import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.Tensor;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite-difference gradient check for one op (test utility).
 *
 * <p>The op's output Y is reduced to {@code L = Σ Y·R} with a fixed random R; backward is seeded with
 * {@code dY = R}. Each input element is nudged by ±eps and the central difference of L (in double) is
 * compared with the analytic gradient.
 */
public final class GradCheck {
    private GradCheck() {
    }

    /** Heap tensor with uniform values in [-scale, scale), marked as requiring a gradient. */
    public static Tensor random(long seed, float scale, int... shape) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Tensor t = Tensor.zeros(shape);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, (float) ((rnd.nextDouble() * 2 - 1) * scale));
        }
        t.requireGrad();
        t.setGrad(Tensor.zeros(shape));
        return t;
    }

    /**
     * Checks d(Σ op(inputs)·R)/d(input) for every input against central differences.
     *
     * @param op        builds the op on a fresh tape from the inputs and returns its output
     * @param inputs    tensors with heap gradients attached (see {@link #random})
     * @param eps       finite-difference step
     * @param tolerance max allowed |analytic − numeric| / max(1, |numeric|)
     */
    public static void check(Function<Tape, Tensor> op, List<Tensor> inputs, double eps, double tolerance) {
        try (Compute compute = new Compute(1)) {
            Tape tape = new Tape(compute, new Arena());
            Tensor y = op.apply(tape);
            Tensor r = random(7, 1f, y.shape());
            for (Tensor in : inputs) {
                in.grad().fill(0f);
            }
            tape.grad(y).copyFrom(r.toArray());
            tape.backward();
            float[][] analytic = new float[inputs.size()][];
            for (int i = 0; i < inputs.size(); i++) {
                analytic[i] = inputs.get(i).grad().toArray();
            }
            for (int i = 0; i < inputs.size(); i++) {
                Tensor in = inputs.get(i);
                for (int e = 0; e < in.size(); e++) {
                    float orig = in.get(e);
                    in.set(e, (float) (orig + eps));
                    double plus = objective(compute, op, r);
                    in.set(e, (float) (orig - eps));
                    double minus = objective(compute, op, r);
                    in.set(e, orig);
                    double numeric = (plus - minus) / (2 * eps);
                    double err = Math.abs(analytic[i][e] - numeric) / Math.max(1.0, Math.abs(numeric));
                    assertTrue(err <= tolerance, "input " + i + " element " + e + ": analytic " + analytic[i][e]
                            + " vs numeric " + numeric + " (error " + err + ")");
                }
            }
        }
    }

    private static double objective(Compute compute, Function<Tape, Tensor> op, Tensor r) {
        Tape tape = new Tape(compute, new Arena());
        Tensor y = op.apply(tape);
        double s = 0;
        for (int i = 0; i < y.size(); i++) {
            s += (double) y.get(i) * r.get(i);
        }
        return s;
    }
}
