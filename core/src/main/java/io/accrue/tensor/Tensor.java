package io.accrue.tensor;

import java.util.Arrays;

/**
 * A view (offset + shape) into flat float storage, row-major and contiguous.
 *
 * <p>Tensors never own memory: parameters view the {@link ParameterStore}'s buffers, activations view
 * {@link Arena} chunks. A tensor that takes part in backward has a {@link #grad()} view of the same shape;
 * backward only ever adds ({@code +=}) into it.
 */
public final class Tensor {
    /** The storage of {@link #unbacked} tensors: none. */
    private static final float[] NO_STORAGE = new float[0];

    private final float[] data;
    private final int offset;
    private final int[] shape;
    private final int size;
    private Tensor grad;
    private boolean requiresGrad;
    private Tensor base;

    public Tensor(float[] data, int offset, int... shape) {
        if (data == null) {
            throw new IllegalArgumentException("tensor storage is null");
        }
        this.shape = shape.clone();
        this.size = sizeOf(this.shape);
        if (offset < 0 || data != NO_STORAGE && (long) offset + size > data.length) {
            throw new IllegalArgumentException("view at offset " + offset + " of shape " + Arrays.toString(shape)
                    + " does not fit in storage of " + data.length + " floats");
        }
        this.data = data;
        this.offset = offset;
    }

    /**
     * A view with a shape and an offset but no storage: a dry run's tensors ({@link Arena#counting}, a shapes-only
     * {@link ParameterStore}) have sizes, never elements. Reading or writing an element throws; views and
     * reshapes of it are unbacked too.
     */
    public static Tensor unbacked(int offset, int... shape) {
        return new Tensor(NO_STORAGE, offset, shape);
    }

    /** Whether this view has storage (false for {@link #unbacked} tensors). */
    public boolean backed() {
        return data != NO_STORAGE;
    }

    /** A fresh zeroed tensor on the heap, for tests, weights initialisation and small state. */
    public static Tensor zeros(int... shape) {
        return new Tensor(new float[sizeOf(shape)], 0, shape);
    }

    /** A heap tensor holding a copy of {@code values} with the given shape. */
    public static Tensor of(float[] values, int... shape) {
        if (sizeOf(shape) != values.length) {
            throw new IllegalArgumentException(values.length + " values do not fill shape " + Arrays.toString(shape));
        }
        return new Tensor(values.clone(), 0, shape);
    }

    /** Number of elements of {@code shape}; every dimension must be positive. */
    public static int sizeOf(int... shape) {
        long n = 1;
        for (int d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a non-positive dimension");
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " exceeds 2^31-1 elements");
            }
        }
        return (int) n;
    }

    public float[] data() {
        return data;
    }

    public int offset() {
        return offset;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public int size() {
        return size;
    }

    /** Last dimension: the length of one row. */
    public int cols() {
        return shape[shape.length - 1];
    }

    /** Product of all but the last dimension: the number of rows. */
    public int rows() {
        return size / cols();
    }

    public float get(int i) {
        return data[offset + checkIndex(i)];
    }

    public void set(int i, float v) {
        data[offset + checkIndex(i)] = v;
    }

    private int checkIndex(int i) {
        if (i < 0 || i >= size) {
            throw new IndexOutOfBoundsException("index " + i + " outside tensor of " + size + " elements");
        }
        return i;
    }

    /** The same storage seen with another shape of the same size. */
    public Tensor reshape(int... newShape) {
        if (sizeOf(newShape) != size) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
                    + Arrays.toString(newShape));
        }
        Tensor t = new Tensor(data, offset, newShape);
        t.requiresGrad = requiresGrad;
        t.base = base != null ? base : this;
        if (grad != null) {
            t.grad = grad.reshape(newShape);
        }
        return t;
    }

    /** The gradient view, or null when this tensor takes no part in backward. */
    public Tensor grad() {
        return grad;
    }

    /** The tensor this one was reshaped from (gradients are shared with it), or null. */
    public Tensor base() {
        return base;
    }

    /** Whether backward must produce a gradient for this tensor (parameters and op outputs do; inputs don't). */
    public boolean requiresGrad() {
        return requiresGrad || grad != null || (base != null && base.requiresGrad());
    }

    /** Marks this tensor as one backward must produce a gradient for; returns it. */
    public Tensor requireGrad() {
        requiresGrad = true;
        return this;
    }

    /** Attaches a gradient view of the same shape (done by the parameter store and the tape). */
    public void setGrad(Tensor g) {
        if (g != null && g.size != size) {
            throw new IllegalArgumentException("gradient of shape " + Arrays.toString(g.shape)
                    + " does not match tensor of shape " + Arrays.toString(shape));
        }
        this.grad = g;
    }

    public void fill(float v) {
        Arrays.fill(data, offset, offset + size, v);
    }

    /** A copy of the elements, for tests and checkpoints. */
    public float[] toArray() {
        return Arrays.copyOfRange(data, offset, offset + size);
    }

    public void copyFrom(float[] src) {
        if (src.length != size) {
            throw new IllegalArgumentException("copy of " + src.length + " floats into tensor of " + size);
        }
        System.arraycopy(src, 0, data, offset, size);
    }

    /** Copies the elements of a tensor of the same size into this one. */
    public void copyFrom(Tensor src) {
        if (src.size != size) {
            throw new IllegalArgumentException("copy of " + src + " into " + this);
        }
        System.arraycopy(src.data, src.offset, data, offset, size);
    }

    /** Whether {@code other} has this tensor's shape. */
    public boolean sameShape(Tensor other) {
        return Arrays.equals(shape, other.shape);
    }

    /** Throws naming both shapes unless this tensor has exactly {@code expected}. */
    public Tensor requireShape(String what, int... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new IllegalArgumentException(what + " has shape " + Arrays.toString(shape) + ", expected "
                    + Arrays.toString(expected));
        }
        return this;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape);
    }
}
