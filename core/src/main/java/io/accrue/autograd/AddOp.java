package io.accrue.autograd;

import io.accrue.tensor.Tensor;
import io.accrue.tensor.elementwise.Elementwise;

/**
 * Elementwise sum of two tensors of the same shape (residual connections): {@code y = a + b}.
 *
 * <p>Backward: {@code da += dy}, {@code db += dy} (both, when a and b are the same tensor).
 */
public final class AddOp {
    /** Elements per parallel part: below this, one thread does the whole tensor. */
    static final int GRAIN = 1 << 15;

    private AddOp() {
    }

    public static Tensor forward(Tape tape, Tensor a, Tensor b) {
        if (!a.sameShape(b)) { // the message only on failure: formatting it on every call allocated per op
            b.requireShape("add: second operand (first is " + a + ")", a.shape());
        }
        Tensor y = tape.output(a.shape());
        if (a.requiresGrad() || b.requiresGrad()) {
            tape.record(() -> backward(tape, a, b, y));
        }
        if (tape.planning()) {
            return y;
        }
        float[] yd = y.data();
        float[] ad = a.data();
        float[] bd = b.data();
        int yo = y.offset();
        int ao = a.offset();
        int bo = b.offset();
        tape.compute().parallel().forRange(y.size(), GRAIN,
                (from, to) -> Elementwise.add(yd, yo + from, ad, ao + from, bd, bo + from, to - from));
        return y;
    }

    private static void backward(Tape tape, Tensor a, Tensor b, Tensor y) {
        Tensor dy = tape.grad(y);
        Tensor da = a.requiresGrad() ? tape.grad(a) : null;
        Tensor db = b.requiresGrad() ? tape.grad(b) : null;
        if (tape.planning()) {
            return;
        }
        if (da != null) {
            addInto(tape, da, dy);
        }
        if (db != null) {
            addInto(tape, db, dy);
        }
    }

    /** {@code out[i] += in[i]}, split over elements. */
    static void addInto(Tape tape, Tensor out, Tensor in) {
        float[] o = out.data();
        float[] x = in.data();
        int oo = out.offset();
        int xo = in.offset();
        tape.compute().parallel().forRange(out.size(), GRAIN,
                (from, to) -> Elementwise.add(o, oo + from, o, oo + from, x, xo + from, to - from));
    }
}
