package io.accrue.tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.accrue.tensor.elementwise.Elementwise;

/**
 * All parameters of a model in one contiguous float buffer, their gradients in a second of the same
 * layout (law 1).
 *
 * <p>Modules {@link #declare} parameters while they are constructed; {@link #allocate()} then creates the
 * buffers and binds every declared parameter's views. Zeroing gradients is one fill, the optimizer one pass,
 * clipping one norm, a checkpoint one write.
 *
 * <p>A parameter used twice in one forward pass (a tied embedding/head) would receive two interleaved sums
 * per micro-batch, so where the micro-batches are cut would change the bits. A {@link #tie tied use} therefore
 * gets its own gradient slot after the main layout; {@link #foldTiedGradients()} adds each slot into its
 * owner once per optimizer step, keeping every sum over examples a single ordered chain (law 3).
 *
 * <p>A {@link #shapesOnly()} store lays the parameters out the same way but creates no buffers and runs no
 * initialiser: its views are {@link Tensor#unbacked unbacked}. A model built on one has its real parameter shapes
 * and offsets at no cost in memory, for a dry run ({@code MemoryPlanner}); it cannot be trained.
 */
public final class ParameterStore {

    /** Fills a parameter's elements {@code values[offset, offset + length)} in place (no temporary copy). */
    @FunctionalInterface
    public interface Initializer {
        void fill(float[] values, int offset, int length);
    }

    private record Declaration(String name, int[] shape, boolean weightDecay, Initializer init) {
    }

    private final boolean shapesOnly;
    private final Map<String, Declaration> declared = new LinkedHashMap<>();
    private final Set<String> storedTransposed = new HashSet<>();
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final List<Parameter> parameters = new ArrayList<>();
    private final List<String> tiedOwners = new ArrayList<>();
    private final Map<String, float[]> buffers = new LinkedHashMap<>();
    private float[] values;
    private float[] grads;
    private boolean allocated;
    private int size;
    private int gradSize;

    /** A store whose {@link #allocate()} creates the flat buffers. */
    public ParameterStore() {
        this(false);
    }

    private ParameterStore(boolean shapesOnly) {
        this.shapesOnly = shapesOnly;
    }

    /** A store whose {@link #allocate()} binds unbacked views: shapes and offsets, no buffers, no initialisers. */
    public static ParameterStore shapesOnly() {
        return new ParameterStore(true);
    }

    /** Whether this store has no buffers ({@link #shapesOnly()}). */
    public boolean isShapesOnly() {
        return shapesOnly;
    }

    /**
     * Declares a parameter; {@code init} fills a fresh array of its size (called in declaration order at
     * {@link #allocate()}, so a seeded initialiser gives the same weights every time).
     */
    public void declare(String name, int[] shape, boolean weightDecay, Initializer init) {
        if (allocated) {
            throw new IllegalStateException("parameter '" + name + "' declared after allocate()");
        }
        if (declared.containsKey(name)) {
            throw new IllegalArgumentException("parameter '" + name + "' is declared twice");
        }
        Tensor.sizeOf(shape);
        declared.put(name, new Declaration(name, shape.clone(), weightDecay, init));
    }

    /**
     * Declares that files hold the declared 2-D parameter {@code name} transposed ({@link Parameter#storedTransposed}):
     * the model's layout for export, e.g. GPT-2's {@code Conv1D} weights, which Hugging Face stores (in, out).
     */
    public void storeTransposed(String name) {
        Declaration d = declared.get(name);
        if (d == null) {
            throw new IllegalArgumentException("cannot store unknown parameter '" + name + "' transposed");
        }
        if (d.shape.length != 2) {
            throw new IllegalArgumentException("parameter '" + name + "' of shape " + Arrays.toString(d.shape)
                    + " is not 2-D and cannot be stored transposed");
        }
        if (allocated) {
            throw new IllegalStateException("parameter '" + name + "' given a stored layout after allocate()");
        }
        storedTransposed.add(name);
    }

    /**
     * Registers state that is not trained but belongs with the weights — BatchNorm's running statistics — under
     * {@code name} ({@code norm1.running_mean}, PyTorch's buffer names): checkpoints save and restore it beside the
     * parameters. The array is live: it is saved and restored in place.
     */
    public void registerBuffer(String name, float[] values) {
        if (declared.containsKey(name) || buffers.containsKey(name)) {
            throw new IllegalArgumentException("buffer '" + name + "' clashes with a parameter or buffer of that name");
        }
        buffers.put(name, values);
    }

    /** The {@link #registerBuffer registered buffers}, by name, in registration order (live arrays). */
    public Map<String, float[]> buffers() {
        return Collections.unmodifiableMap(buffers);
    }

    /**
     * Declares a second use of {@code owner} in the forward pass, returning the name of the tensor that
     * carries it: same values, its own gradient slot.
     */
    public String tie(String owner) {
        if (!declared.containsKey(owner)) {
            throw new IllegalArgumentException("cannot tie unknown parameter '" + owner + "'");
        }
        tiedOwners.add(owner);
        return owner + "#tied" + (tiedOwners.size() - 1);
    }

    /** Creates the flat buffers, runs the initialisers and binds all views (shapes only: binds unbacked views). */
    public ParameterStore allocate() {
        if (allocated) {
            throw new IllegalStateException("allocate() called twice");
        }
        long total = 0;
        for (Declaration d : declared.values()) {
            total += Tensor.sizeOf(d.shape);
        }
        long tiedTotal = 0;
        for (String owner : tiedOwners) {
            tiedTotal += Tensor.sizeOf(declared.get(owner).shape);
        }
        if (total + tiedTotal > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("model has " + total + " parameters; one flat float buffer holds "
                    + "at most 2^31-9");
        }
        size = (int) total;
        gradSize = (int) (total + tiedTotal);
        if (!shapesOnly) {
            values = new float[size];
            grads = new float[gradSize];
        }
        allocated = true;
        int offset = 0;
        for (Declaration d : declared.values()) {
            int n = Tensor.sizeOf(d.shape);
            if (!shapesOnly) {
                d.init.fill(values, offset, n);
            }
            Tensor v = view(values, offset, d.shape);
            v.setGrad(view(grads, offset, d.shape));
            Parameter p = new Parameter(d.name, v, offset, d.weightDecay, storedTransposed.contains(d.name));
            parameters.add(p);
            byName.put(d.name, p);
            offset += n;
        }
        for (int i = 0; i < tiedOwners.size(); i++) {
            Parameter owner = byName.get(tiedOwners.get(i));
            Tensor v = view(values, owner.offset(), owner.value().shape());
            v.setGrad(view(grads, offset, owner.value().shape()));
            byName.put(owner.name() + "#tied" + i, new Parameter(owner.name() + "#tied" + i, v, offset, false,
                    owner.storedTransposed()));
            offset += owner.size();
        }
        return this;
    }

    /** A view into {@code buffer}, or an unbacked one at the same offset for a shapes-only store. */
    private Tensor view(float[] buffer, int offset, int[] shape) {
        return shapesOnly ? Tensor.unbacked(offset, shape) : new Tensor(buffer, offset, shape);
    }

    private void requireAllocated() {
        if (!allocated) {
            throw new IllegalStateException("parameters are not allocated yet: call allocate()");
        }
    }

    private void requireBuffers() {
        requireAllocated();
        if (shapesOnly) {
            throw new IllegalStateException("a shapes-only parameter store has no buffers (it serves dry runs)");
        }
    }

    /** The parameter (or tied use) with this name. */
    public Parameter get(String name) {
        requireAllocated();
        Parameter p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "'");
        }
        return p;
    }

    /** The value tensor of a parameter or tied use; its grad() is where backward adds. */
    public Tensor tensor(String name) {
        return get(name).value();
    }

    /** The real parameters in layout order (tied uses excluded). */
    public List<Parameter> parameters() {
        requireAllocated();
        return Collections.unmodifiableList(parameters);
    }

    /** Number of parameters (the length of the value buffer). */
    public int size() {
        requireAllocated();
        return size;
    }

    /** The length of the gradient buffer: {@link #size()} plus the tied-use slots. */
    public int gradSize() {
        requireAllocated();
        return gradSize;
    }

    /** The flat value buffer, all parameters in layout order. */
    public float[] values() {
        requireBuffers();
        return values;
    }

    /**
     * The flat gradient buffer; elements {@code [0, size())} share the value layout, the rest are tied-use
     * slots.
     */
    public float[] grads() {
        requireBuffers();
        return grads;
    }

    /** Zeroes every gradient, tied slots included: one fill. */
    public void zeroGrad() {
        Arrays.fill(grads(), 0f);
    }

    /** {@link #zeroGrad()} on the team: one memory pass over all gradient slots, shared among the threads. */
    public void zeroGrad(Parallel parallel) {
        float[] g = grads();
        Elementwise.zero(parallel, g, 0, g.length);
    }

    /** Adds each tied-use slot into its owner's gradient, in declaration order, and zeroes the slot. */
    public void foldTiedGradients() {
        requireBuffers();
        int slot = size;
        for (String ownerName : tiedOwners) {
            Parameter owner = byName.get(ownerName);
            int n = owner.size();
            for (int i = 0; i < n; i++) {
                grads[owner.offset() + i] += grads[slot + i];
                grads[slot + i] = 0f;
            }
            slot += n;
        }
    }
}
