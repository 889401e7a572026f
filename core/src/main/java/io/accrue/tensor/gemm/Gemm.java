package io.accrue.tensor.gemm;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.Tensor;
import io.accrue.tensor.VectorApi;

/**
 * General matrix multiply-accumulate {@code C(m×n) += A(m×k) · B(k×n)} on a {@link Parallel} team: the dispatcher of
 * the GEMM family. Its entry points take tensors (a linear layer's three forms) or {@link Matrix} views (any
 * product), each view possibly transposed (its storage holds the transpose).
 *
 * <p>The three forms a linear layer needs, with X (N, in), W (out, in), Y (N, out), on tensors as they are (no
 * views to build, so nothing is allocated per call):
 * <ul>
 *   <li>{@link #linearForward} {@code Y = b + X·Wᵀ}, the chains starting from the bias;</li>
 *   <li>{@link #linearInputGradient} {@code dX += dY·W}, or {@code dX = dY·W} into a fresh gradient;</li>
 *   <li>{@link #linearWeightGradient} {@code dW += dYᵀ·X} — a sum over rows (examples), which therefore continues
 *       across calls exactly: cutting the rows into micro-batches changes no bit.</li>
 * </ul>
 * Any other product takes {@link Matrix} views: {@link #multiply} {@code C += A·B}, and {@link #multiplyByWeight}
 * for a B that is a weight (the forms above are {@code multiplyByWeight(of(Y), repeatedRow(b, N), of(X), of(W).t())},
 * {@code multiplyByWeight(of(dX), of(dY), of(W))} and {@code multiply(of(dW), of(dY).t(), of(X))}, with a view
 * object per operand and call).
 *
 * <p>Each output is one FMA chain along k from the value already in C (law 3); threads split outputs only (blocks of
 * rows or of columns of C), so the result has the same bits for every thread count. {@link GemmReference} is the
 * oracle, and the fast path gives exactly its bits.
 *
 * <p>The fast path is {@link VectorGemm} ({@code jdk.incubator.vector}, enabled with
 * {@code --add-modules jdk.incubator.vector}); without the module ({@link VectorApi}) Gemm runs the scalar oracle.
 * An instance owns packing buffers, one set per thread part, grown on demand and reused: it serves one caller at a
 * time.
 */
public final class Gemm {
    private static final boolean VECTOR_AVAILABLE = VectorApi.AVAILABLE;

    /** Below this many multiply-adds a call runs on the calling thread alone (waking the team costs more). */
    private static final long PARALLEL_MIN_WORK = 1L << 18;
    /**
     * Cost of moving one element with scalar code (a transposing pack, C through the tile buffer), in
     * multiply-adds of a kernel 16 columns wide (two 8-lane vectors). A wider kernel does a multiply-add in
     * proportionally less time, so for it the cost is scaled by its columns / 16.
     */
    private static final double PACK_COST = 16;
    private static final int PACK_COST_COLUMNS = 16;
    /** Cost of packing one element of a row-major B (vector copies, as wide as the kernel's vectors). */
    private static final double COPY_COST = 4;
    /** Time of the in-place-rows kernel relative to the packed one (GemmBench, 2048×384×1536). */
    private static final double ROWS_KERNEL_COST = 1.06;
    /**
     * Most rows of A for which {@link #multiplyByWeight} holds a weight. Packing W costs about 1/m of the product,
     * so beyond a few hundred rows holding saves little and would cost a packed copy of the weights in memory.
     */
    public static final int HOLD_MAX_ROWS = 512;
    /**
     * Fewest floats of a weight worth holding: below a few thousand, packing is as quick as finding the held copy.
     */
    public static final long HOLD_MIN_FLOATS = 1L << 12;

    private final Parallel parallel;
    private final VectorGemm vector; // null: scalar kernels
    /** Rows and columns of C per tile: the kernel's (its vector width decides them); the oracle has no tiles. */
    private final int tileRows;
    private final int tileCols;
    private boolean holding;

    public Gemm(Parallel parallel) {
        this(parallel, true);
    }

    /** {@code useVector=false} forces the scalar kernels (tests compare both). */
    Gemm(Parallel parallel, boolean useVector) {
        this(parallel, useVector && VECTOR_AVAILABLE ? new VectorGemm(parallel.threads()) : null);
    }

    /**
     * A Gemm on {@code parallel} that holds weights in the same packed panels as this one: the micro-batches a
     * trainer runs concurrently share one packed copy of each weight. Either may release them.
     */
    public Gemm lane(Parallel parallel) {
        return new Gemm(parallel, vector != null ? new VectorGemm(parallel.threads(), vector) : null);
    }

    private Gemm(Parallel parallel, VectorGemm vector) {
        this.parallel = parallel;
        this.vector = vector;
        // VectorGemm's sizes are read only when the class can load: they depend on the vector species.
        this.tileRows = vector != null ? VectorGemm.MR : 8;
        this.tileCols = vector != null ? VectorGemm.NR : 16;
    }

    public Parallel parallel() {
        return parallel;
    }

    /** Whether this instance runs the Vector API kernel (false: the scalar fallback). */
    public boolean vectorized() {
        return vector != null;
    }

    /** The width of the vectors the kernel computes on, 512 or 256 bits; 0 for the scalar fallback. */
    public int vectorBits() {
        return vector != null ? VectorGemm.vectorBits() : 0;
    }

    /** {@code C += A·B}: C is m×n (not transposed), A m×k, B k×n. */
    public void multiply(Matrix c, Matrix a, Matrix b) {
        if (c.transposed() || a.rows() != c.rows() || b.cols() != c.cols() || a.cols() != b.rows()) {
            throw shapeMismatch(c, a, b);
        }
        checkSizes(c.ld(), a.ld(), a.transposed(), b.ld(), b.transposed(), c.rows(), c.cols(), a.cols());
        product(c.data(), c.offset(), c.ld(), c.data(), c.offset(), c.ld(), a.data(), a.offset(), a.ld(),
                a.transposed(), b.data(), b.offset(), b.ld(), b.transposed(), c.rows(), c.cols(), a.cols());
    }

    /**
     * {@code C = A·B}, each output's chain starting from +0: the bits of zeroing C and then {@link #multiply}, without
     * that pass over C (its values before the call are not read).
     */
    public void multiplyInto(Matrix c, Matrix a, Matrix b) {
        if (c.transposed() || a.rows() != c.rows() || b.cols() != c.cols() || a.cols() != b.rows()) {
            throw shapeMismatch(c, a, b);
        }
        checkSizes(c.ld(), a.ld(), a.transposed(), b.ld(), b.transposed(), c.rows(), c.cols(), a.cols());
        product(c.data(), c.offset(), c.ld(), null, 0, 0, a.data(), a.offset(), a.ld(), a.transposed(), b.data(),
                b.offset(), b.ld(), b.transposed(), c.rows(), c.cols(), a.cols());
    }

    /** {@code C = I + op(A)·op(B)} with I as the initialising {@code multiplyByWeight} takes it; sizes checked. */
    private void product(float[] c, int cOff, int ldc, float[] init, int initOff, int initLd,
                         float[] a, int aOff, int lda, boolean transA,
                         float[] b, int bOff, int ldb, boolean transB,
                         int m, int n, int k) {
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            setToInit(c, cOff, ldc, init, initOff, initLd, 0, m, 0, n);
        } else if (vector != null && transposedIsCheaper(m, n, k, transA, transB)) {
            // Cᵀ += op(B)ᵀ·op(A)ᵀ: the same products in the same order for every output (fma(x, y, c) = fma(y, x, c)).
            // I is addressed like C, so its leading dimension swaps roles with C's.
            split(true, c, cOff, ldc, init, initOff, initLd, b, bOff, ldb, !transB, a, aOff, lda, !transA, n, m, k,
                    null);
        } else {
            split(false, c, cOff, ldc, init, initOff, initLd, a, aOff, lda, transA, b, bOff, ldb, transB, m, n, k,
                    null);
        }
    }

    /** {@code C[i0..i1)[j0..j1) = I}, unless I is C itself. */
    private static void setToInit(float[] c, int cOff, int ldc, float[] init, int initOff, int initLd,
                                  int i0, int i1, int j0, int j1) {
        if (init == c && initOff == cOff && initLd == ldc) {
            return;
        }
        for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
                c[cOff + i * ldc + j] = init == null ? 0f : init[initOff + i * initLd + j];
            }
        }
    }

    /**
     * {@link #multiply} where W is a weight: while weights are {@link #holdWeights held}, W is packed once and every
     * later product with it reads the packed copy (the same values, so the same bits). A small micro-batch's
     * forward (X·Wᵀ) and backward (dY·W) would pack each weight for few rows, K times per window; this packs Wᵀ and
     * W once each.
     */
    public void multiplyByWeight(Matrix c, Matrix a, Matrix w) {
        multiplyByWeight(c, c, a, w);
    }

    /**
     * {@code C = I + A·W}, W a weight as in the accumulating {@code multiplyByWeight} above, I the initial values
     * {@code init}: a matrix addressed like C (C itself: accumulate), one row repeated ({@link Matrix#repeatedRow}: a
     * bias), or zeros ({@code init = null}); C's values before the call are not read unless I is C. The same bits as
     * setting C to I and then accumulating — each output's chain starts from I's value instead of loading it from
     * C — without that extra pass over C, and without C's old lines read from memory for the first k-block.
     */
    public void multiplyByWeight(Matrix c, Matrix init, Matrix a, Matrix w) {
        int m = c.rows();
        int n = c.cols();
        int k = a.cols();
        if (c.transposed() || a.rows() != m || w.cols() != n || w.rows() != k) {
            throw shapeMismatch(c, a, w);
        }
        checkSizes(c.ld(), a.ld(), a.transposed(), w.ld(), w.transposed(), m, n, k);
        if (init != null && (init.transposed() || init.rows() != m || init.cols() != n)) {
            throw new IllegalArgumentException("initial values " + init + " do not match C " + c);
        }
        int initLd = init == null ? 0 : init.ld();
        if (init != null && initLd != 0 && initLd < n) {
            throw new IllegalArgumentException("initial values' leading dimension " + initLd + " is below n=" + n
                    + " (0 repeats one row)");
        }
        multiplyByWeight(c.data(), c.offset(), c.ld(), init == null ? null : init.data(),
                init == null ? 0 : init.offset(), initLd, a.data(), a.offset(), a.ld(), a.transposed(), w.data(),
                w.offset(), w.ld(), w.transposed(), m, n, k);
    }

    private void multiplyByWeight(float[] c, int cOff, int ldc, float[] init, int initOff, int initLd,
                                  float[] a, int aOff, int lda, boolean transA,
                                  float[] b, int bOff, int ldb, boolean transB,
                                  int m, int n, int k) {
        if (!holding || transA || m == 0 || n == 0 || k == 0 || heldWeightFloats(m, k, n, transB) == 0) {
            product(c, cOff, ldc, init, initOff, initLd, a, aOff, lda, transA, b, bOff, ldb, transB, m, n, k);
            return;
        }
        split(false, c, cOff, ldc, init, initOff, initLd, a, aOff, lda, transA, b, bOff, ldb, transB, m, n, k,
                vector.heldPanel(parallel, b, bOff, ldb, transB, k, n));
    }

    /**
     * A linear layer's forward {@code Y = b + X·Wᵀ} ({@code multiplyByWeight} with W transposed): each output's chain
     * starts from its bias, or from +0 without one ({@code bias} null); Y's values before the call are not read.
     * X is (N, in) as its 2-D view ({@link Tensor#rows()}, {@link Tensor#cols()}), W (out, in), b (out), Y (N, out).
     */
    public void linearForward(Tensor y, Tensor bias, Tensor x, Tensor w) {
        int n = x.rows();
        int in = x.cols();
        if (w.rank() != 2 || w.dim(1) != in || y.rows() != n || y.cols() != w.dim(0)
                || (bias != null && bias.size() != w.dim(0))) {
            throw new IllegalArgumentException("linear forward: Y " + y + " = b " + bias + " + X " + x + " · Wᵀ, W "
                    + w + ": shapes do not match");
        }
        int out = w.dim(0);
        multiplyByWeight(y.data(), y.offset(), out, bias == null ? null : bias.data(),
                bias == null ? 0 : bias.offset(), 0, x.data(), x.offset(), in, false, w.data(), w.offset(), in, true,
                n, out, in);
    }

    /**
     * A linear layer's input gradient {@code dX += dY·W} ({@code multiplyByWeight}), or with {@code accumulate}
     * false {@code dX = dY·W}: the bits of accumulating onto zeros, without reading dX (a fresh gradient needs no
     * zeroing). dY is (N, out), W (out, in), dX (N, in).
     */
    public void linearInputGradient(Tensor dx, boolean accumulate, Tensor dy, Tensor w) {
        int n = dy.rows();
        int out = dy.cols();
        if (w.rank() != 2 || w.dim(0) != out || dx.rows() != n || dx.cols() != w.dim(1)) {
            throw new IllegalArgumentException("linear input gradient: dX " + dx + " = dY " + dy + " · W " + w
                    + ": shapes do not match");
        }
        int in = w.dim(1);
        multiplyByWeight(dx.data(), dx.offset(), in, accumulate ? dx.data() : null, dx.offset(), in, dy.data(),
                dy.offset(), out, false, w.data(), w.offset(), in, false, n, in, out);
    }

    /**
     * A linear layer's weight gradient {@code dW += dYᵀ·X}: one chain per element of dW over the N rows ascending,
     * continuing from dW's value (law 3). dY is (N, out), X (N, in), dW (out, in).
     */
    public void linearWeightGradient(Tensor dw, Tensor dy, Tensor x) {
        int n = dy.rows();
        int out = dy.cols();
        int in = x.cols();
        if (x.rows() != n || dw.rank() != 2 || dw.dim(0) != out || dw.dim(1) != in) {
            throw new IllegalArgumentException("linear weight gradient: dW " + dw + " += dYᵀ · X, dY " + dy + ", X "
                    + x + ": shapes do not match");
        }
        product(dw.data(), dw.offset(), in, dw.data(), dw.offset(), in, dy.data(), dy.offset(), out, true, x.data(),
                x.offset(), in, false, out, in, n);
    }

    /**
     * Holds the weights (true: they do not change until released) or releases them (false: every held panel is
     * stale). The trainer holds them for a window's micro-batches and releases them before the step boundary.
     * Without the Vector API nothing is held.
     */
    public void holdWeights(boolean hold) {
        holding = hold && vector != null;
        if (!hold && vector != null) {
            vector.releaseHeld();
        }
    }

    /** Floats of the packed weights kept for holding (0 before any window of K > 1). */
    public long heldWeightFloats() {
        return vector != null ? vector.heldFloats() : 0;
    }

    /**
     * Floats a held k×n op(B) takes when m rows of a row-major A are multiplied by it through
     * {@link #multiplyByWeight}: the weight padded to whole column tiles and a cache line; 0 where it is not held —
     * more than {@link #HOLD_MAX_ROWS} rows, fewer than {@link #HOLD_MIN_FLOATS} floats, a product computed in the
     * swapped form (which reads W in place), or no Vector API.
     */
    public static long heldWeightFloats(int m, int k, int n, boolean transB) {
        if (!VECTOR_AVAILABLE || m == 0 || m > HOLD_MAX_ROWS || (long) k * n < HOLD_MIN_FLOATS
                || transposedIsCheaper(m, n, k, false, transB)) {
            return 0;
        }
        return VectorGemm.panelFloats(k, n);
    }

    /** The error for a C that is transposed, or shapes other than C m×n, A m×k and B k×n. */
    private static IllegalArgumentException shapeMismatch(Matrix c, Matrix a, Matrix b) {
        return new IllegalArgumentException(c.transposed() ? "the product C must not be transposed: " + c
                : "shapes do not multiply: C " + c + " += A " + a + " · B " + b);
    }

    private static void checkSizes(int ldc, int lda, boolean transA, int ldb, boolean transB, int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("negative size m=" + m + ", n=" + n + ", k=" + k);
        }
        if (ldc < n || lda < (transA ? m : k) || ldb < (transB ? k : n)) {
            throw new IllegalArgumentException("leading dimension too small: ldc=" + ldc + ", lda=" + lda + ", ldb="
                    + ldb + " for m=" + m + ", n=" + n + ", k=" + k + ", transA=" + transA + ", transB=" + transB);
        }
    }

    /** Cuts the outputs into thread parts (blocks of rows or of columns) and runs them; B from a held panel. */
    private void split(boolean cTransposed, float[] c, int cOff, int ldc, float[] init, int initOff, int initLd,
                       float[] a, int aOff, int lda, boolean transA,
                       float[] b, int bOff, int ldb, boolean transB,
                       int m, int n, int k, VectorGemm.HeldPanel panel) {
        int rowTiles = ceilDiv(m, tileRows);
        int colTiles = ceilDiv(n, tileCols);
        int threads = (long) m * n * k < PARALLEL_MIN_WORK ? 1 : parallel.threads();
        boolean byRows = splitRows(rowTiles, colTiles, threads,
                (double) m * k * packCostA(transA, cTransposed, tileCols),
                panel != null ? 0 : (double) n * k * packCostB(transB, tileCols), (double) m * n * k);
        int tiles = byRows ? rowTiles : colTiles;
        if (Math.min(threads, tiles) == 1) {
            block(0, cTransposed, c, cOff, ldc, init, initOff, initLd, a, aOff, lda, transA, b, bOff, ldb, transB,
                    0, m, 0, n, k, panel);
            return;
        }
        parallel.forParts(tiles, 1, (part, t0, t1) -> {
            if (t0 == t1) {
                return;
            }
            if (byRows) {
                block(part, cTransposed, c, cOff, ldc, init, initOff, initLd, a, aOff, lda, transA, b, bOff, ldb,
                        transB, t0 * tileRows, Math.min(m, t1 * tileRows), 0, n, k, panel);
            } else {
                block(part, cTransposed, c, cOff, ldc, init, initOff, initLd, a, aOff, lda, transA, b, bOff, ldb,
                        transB, 0, m, t0 * tileCols, Math.min(n, t1 * tileCols), k, panel);
            }
        });
    }

    /**
     * Whether computing {@code Cᵀ += op(B)ᵀ·op(A)ᵀ} costs less than {@code C += op(A)·op(B)}. In the swapped form
     * the kernel reads a row-major A in place, so with few rows of C and a transposed B (the forward pass of a
     * small micro-batch, X·Wᵀ) the swap trades packing all of W for packing the small X and transposing C.
     */
    static boolean transposedIsCheaper(int m, int n, int k, boolean transA, boolean transB) {
        return cost(n, m, k, !transB, !transA, true) < cost(m, n, k, transA, transB, false);
    }

    /**
     * Estimated multiply-add equivalents of one call: padded tiles, packing, and for the swapped form its slower
     * in-place kernel and C transposed through the tile buffer once per k-block.
     */
    private static double cost(int m, int n, int k, boolean transA, boolean transB, boolean cTransposed) {
        double tiles = (double) ceilDiv(m, VectorGemm.MR) * VectorGemm.MR * ceilDiv(n, VectorGemm.NR) * VectorGemm.NR;
        double packing = (double) m * k * packCostA(transA, cTransposed, VectorGemm.NR)
                + (double) n * k * packCostB(transB, VectorGemm.NR);
        if (!cTransposed) {
            return tiles * k + packing;
        }
        int kBlocks = ceilDiv(k, VectorGemm.kBlock(k));
        return tiles * k * ROWS_KERNEL_COST + packing + 2 * scalarCost(VectorGemm.NR) * m * n * kBlocks;
    }

    /** Packing cost per element of A: interleaving rows is a scalar transpose; the swapped form reads W in place. */
    private static double packCostA(boolean transA, boolean cTransposed, int tileCols) {
        return transA ? COPY_COST : cTransposed ? 0 : scalarCost(tileCols);
    }

    /** Packing cost per element of B: a row-major B is copied in vectors, a transposed one element by element. */
    private static double packCostB(boolean transB, int tileCols) {
        return transB ? scalarCost(tileCols) : COPY_COST;
    }

    /** {@link #PACK_COST} for a kernel {@code tileCols} wide. */
    private static double scalarCost(int tileCols) {
        return PACK_COST * tileCols / PACK_COST_COLUMNS;
    }

    /**
     * Splits by rows or by columns, whichever has the lower estimated time per thread: its share of the
     * multiply-adds (the busiest part's tiles) plus the packing it repeats. Every thread packs the B panel of
     * its columns and the A block of its rows, so splitting rows makes each thread pack all of B, and splitting
     * columns all of A. Ties go to rows.
     */
    static boolean splitRows(int rowTiles, int colTiles, int threads, double packA, double packB, double work) {
        if (threads == 1) {
            return true;
        }
        double byRows = work * busiestShare(rowTiles, threads) + packB + packA / threads;
        double byCols = work * busiestShare(colTiles, threads) + packB / threads + packA;
        return byRows <= byCols;
    }

    /** The busiest part's share of {@code tiles} split into at most {@code threads} contiguous parts. */
    private static double busiestShare(int tiles, int threads) {
        return (double) ceilDiv(tiles, Math.min(threads, tiles)) / tiles;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    private void block(int part, boolean cTransposed,
                       float[] c, int cOff, int ldc, float[] init, int initOff, int initLd,
                       float[] a, int aOff, int lda, boolean transA,
                       float[] b, int bOff, int ldb, boolean transB,
                       int i0, int i1, int j0, int j1, int k, VectorGemm.HeldPanel panel) {
        if (vector != null) {
            vector.multiply(part, cTransposed, c, cOff, ldc, init, initOff, initLd, a, aOff, lda, transA,
                    b, bOff, ldb, transB, i0, i1, j0, j1, k, panel);
        } else { // the oracle accumulates; without the Vector API C is never transposed
            setToInit(c, cOff, ldc, init, initOff, initLd, i0, i1, j0, j1);
            GemmReference.multiply(c, cOff + i0 * ldc + j0, ldc,
                    a, transA ? aOff + i0 : aOff + i0 * lda, lda, transA,
                    b, transB ? bOff + j0 * ldb : bOff + j0, ldb, transB, i1 - i0, j1 - j0, k);
        }
    }
}
