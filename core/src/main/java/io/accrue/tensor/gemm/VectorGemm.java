package io.accrue.tensor.gemm;

import java.util.HashMap;
import java.util.Map;

import io.accrue.tensor.CacheLines;
import io.accrue.tensor.Lanes;
import io.accrue.tensor.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API kernel behind {@link Gemm}: packed A and B panels and an MR×(2 vectors) register-blocked
 * micro-kernel.
 * The only class of Accrue that touches {@code jdk.incubator.vector} for GEMM; {@link Gemm} loads it only when
 * the module is present.
 *
 * <p>{@link Gemm} may ask for {@code Cᵀ += op(B)ᵀ·op(A)ᵀ} instead (few rows of C and a transposed B, as in a
 * small micro-batch's X·Wᵀ): then A is W, row-major, and the kernel reads its rows in place rather than
 * packing all of W for a handful of outputs, and C goes through the tile buffer transposed.
 *
 * <p>Law 3, exactly as {@link GemmReference}: each output element is one FMA chain along k, ascending, that starts
 * from the value in C. The k dimension is cut into blocks (their bounds depend on k and the kernel width); at the
 * start of a block the accumulators are loaded from C and at its end stored back (β = 1), and storing and reloading
 * a float is exact, so the blocks change no bit. The first block may load them from initial values addressed like
 * C instead (a bias row, or zeros): the chain then starts from the value C would have been set to. Vector lanes
 * hold different columns j. Edge tiles are padded with zeros in the packed panels and computed into a small tile
 * buffer, of which only the real outputs are copied back: padding never enters a real output's chain.
 *
 * <p>Buffers are owned per thread part and reused across calls; an instance serves one caller at a time.
 */
final class VectorGemm {
    /**
     * {@link Lanes#WIDE}: the widest vectors the CPU computes on natively, 512 or 256 bits. Lanes are independent
     * outputs and k blocks change no bit (see above), so the width changes the speed and no bit.
     */
    private static final VectorSpecies<Float> S = Lanes.WIDE;
    private static final int W = S.length();
    /**
     * Register block: rows × two vectors. 512-bit vectors come with 32 registers (AVX-512): 8 rows × 32 columns =
     * 16 accumulators, which load B once per 16 FMAs (5 rows would load it once per 10). With AVX2's 16 registers,
     * 5 rows × 16 columns = 10 accumulators; 6 rows spill on JDK 25's C2.
     */
    static final int MR = W >= 16 ? 8 : 5;
    /**
     * Whether the kernels run rows 5–7. A static final constant: C2 folds the tests away, so each width gets a
     * straight-line kernel from one source.
     */
    private static final boolean EIGHT_ROWS = MR == 8;
    /**
     * Whether a transposed B is packed with gathers (one vector = one k step of W lanes from W rows of B) rather
     * than element by element: faster with AVX-512's gathers; AVX2 machines keep the scalar copy, their gathers
     * being microcoded on some of them (Zen 2).
     */
    private static final boolean GATHER_TRANSPOSE = W >= 16;
    static final int NR = 2 * W;
    /**
     * Largest k block: the B micro-panel (KC×NR floats) that every tile of an A block reuses should stay in L1.
     * 768 for the 16-column kernel (tuned on Zen 2); 256 for the 32-column one, whose panel is then 32 KB, inside
     * a 48 KB L1 (tuned on a Xeon).
     */
    static final int KC = NR == 32 ? 256 : 768;
    /** Rows of A packed at a time; a multiple of MR. */
    static final int MC = 80;
    /**
     * Columns of B packed at a time: a per-thread panel of KC×NC floats (1.5 MB for the 32-column kernel, 3 MB for
     * the 16-column one). A is packed again for every such panel, so n up to 1,536 (a {@code small} GPT's MLP and
     * its 1,152 qkv columns) takes one.
     */
    static final int NC = NR == 32 ? 1536 : 1024;
    /**
     * Whether products wider than {@link #NC_ROWS_OUTER} columns whose B is a weight gradient's X (a transposed A,
     * dYᵀ·X) or a held weight run their row tiles outside their column tiles, in sub-panels of at most that many
     * columns: each A tile then stays in L1 while the row's C tiles are visited left to right, one line after the
     * other in every row, which the hardware prefetcher streams, and the B sub-panel stays in L2. In training, C is
     * cold: a gradient buffer that the other thread of concurrent micro-batches wrote last, or a fresh output. Visited
     * a column of tiles at a time, every kernel call would begin by waiting for its 16 lines. With C in cache the
     * column order is the faster one, each kernel call reading its B micro-panel from L1 rather than L2, so narrower
     * products keep it. Tuned on AVX-512 only, so the 16-column kernel keeps the one order.
     */
    static final boolean ROWS_OUTER = NR == 32;
    /** Widest sub-panel with {@link #ROWS_OUTER}: 512 columns of KC rows, 512 KB, which L2 keeps. */
    static final int NC_ROWS_OUTER = 512;
    /** The A stride that marks a packed tile (interleaved, MR values per p) rather than rows in place. */
    private static final int INTERLEAVED = 0;
    /**
     * Where packed B panels start in their arrays: on a cache line where the JVM allows knowing one
     * ({@link CacheLines}). Every micro-panel and k step is then a multiple of 16 floats from there, so none of the
     * kernel's B loads straddles two lines.
     */
    private static final int PANEL_START = CacheLines.FLOAT_OFFSET;

    private final float[][] packA;
    private final float[][] packB;
    /**
     * Packed weights held for a window ({@link #heldPanel}), by the weight they were packed from; shared with the
     * instances of concurrent micro-batches, so it is locked.
     */
    private final Map<HeldKey, HeldPanel> held;
    private final float[][] tile;
    /** Per part, the offsets of W consecutive rows of a transposed B: the gathers' index map. */
    private final int[][] rowOffsets;

    VectorGemm(int parts) {
        this(parts, new HashMap<>());
    }

    /** An instance that holds weights in the same panels as {@code other} (one packed copy for all). */
    VectorGemm(int parts, VectorGemm other) {
        this(parts, other.held);
    }

    private VectorGemm(int parts, Map<HeldKey, HeldPanel> held) {
        this.held = held;
        packA = new float[parts][];
        packB = new float[parts][];
        tile = new float[parts][];
        rowOffsets = new int[parts][W];
        for (int p = 0; p < parts; p++) {
            tile[p] = new float[MR * NR];
        }
    }

    /** The vector width of the kernel in bits, for reports. */
    static int vectorBits() {
        return S.vectorBitSize();
    }

    /** The k-block length for a reduction of length k: at most {@link #KC}, in equal blocks. */
    static int kBlock(int k) {
        int blocks = (k + KC - 1) / KC;
        return (k + blocks - 1) / blocks;
    }

    /**
     * Computes the outputs {@code C[i0..i1)[j0..j1)} of {@code C += op(A)·op(B)} using the buffers of
     * {@code part}. Offsets and leading dimensions are those of the whole matrices. With {@code cTransposed},
     * C[i][j] is {@code c[cOff + j·ldc + i]} and a row-major A is read in place (see the class comment). With a
     * {@code panel} ({@link #heldPanel}), op(B) is read from it already packed instead of being packed here.
     */
    void multiply(int part, boolean cTransposed,
                  float[] c, int cOff, int ldc, float[] init, int initOff, int initLd,
                  float[] a, int aOff, int lda, boolean transA,
                  float[] b, int bOff, int ldb, boolean transB,
                  int i0, int i1, int j0, int j1, int k, HeldPanel panel) {
        int kb = kBlock(k);
        boolean rowsInPlace = cTransposed && !transA;
        boolean rowsOuter = ROWS_OUTER && !cTransposed && (transA || panel != null) && j1 - j0 > NC_ROWS_OUTER;
        // A held B is packed already, so its columns are not cut into panels: that would only pack A again.
        int panelCols = panel != null ? j1 - j0 : rowsOuter ? evenPanels(j1 - j0, NC_ROWS_OUTER) : NC;
        float[] pa = buffer(packA, part, (rowsInPlace ? MR : (Math.min(MC, i1 - i0) + MR - 1) / MR * MR) * kb);
        float[] pb = panel != null ? panel.data
                : buffer(packB, part, PANEL_START + ((Math.min(panelCols, j1 - j0) + NR - 1) / NR) * NR * kb);
        float[] t = tile[part];
        int[] bRows = gatherRows(part, ldb);
        for (int jc = j0; jc < j1; jc += panelCols) {
            int nc = Math.min(panelCols, j1 - jc);
            for (int pc = 0; pc < k; pc += kb) {
                int kc = Math.min(kb, k - pc);
                // The first k-block starts each chain from I, the later ones from what the block before stored.
                float[] from = pc == 0 ? init : c;
                int fromOff = pc == 0 ? initOff : cOff;
                int fromLd = pc == 0 ? initLd : ldc;
                int bBase = PANEL_START + (panel != null ? pc * panel.paddedCols + jc * kc : 0);
                if (panel == null) {
                    packB(pb, PANEL_START, b, bOff, ldb, transB, bRows, pc, kc, jc, nc);
                }
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    int fullRows = rowsInPlace ? mc - mc % MR : 0;
                    // Packed: every tile of the block, interleaved. In place: only a ragged last tile, padded.
                    packA(pa, a, aOff, lda, transA, ic + fullRows, mc - fullRows, pc, kc);
                    // Row-outer order runs the panel's columns in sub-panels of at most NC_ROWS_OUTER (a held panel is
                    // never cut into panels); the column-outer order takes them all at once.
                    int sub = rowsOuter ? evenPanels(nc, NC_ROWS_OUTER) : nc;
                    int rowTiles = (mc + MR - 1) / MR;
                    for (int js = 0; js < nc; js += sub) {
                        int colTiles = (Math.min(sub, nc - js) + NR - 1) / NR;
                        int outerTiles = rowsOuter ? rowTiles : colTiles;
                        int innerTiles = rowsOuter ? colTiles : rowTiles;
                        for (int outer = 0; outer < outerTiles; outer++) {
                            for (int inner = 0; inner < innerTiles; inner++) {
                                int ir = (rowsOuter ? outer : inner) * MR;
                                int jr = js + (rowsOuter ? inner : outer) * NR;
                                tile(cTransposed, c, cOff, ldc, from, fromOff, fromLd, ir < fullRows ? a : pa,
                                        ir < fullRows ? aOff + (ic + ir) * lda + pc : (ir - fullRows) * kc,
                                        ir < fullRows ? lda : INTERLEAVED, pb, bBase + jr * kc, kc, ic + ir,
                                        jc + jr, Math.min(MR, mc - ir), Math.min(NR, nc - jr), t);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * One tile of C, rows [i, i + rows) and columns [j, j + cols): the register kernel where the tile is whole and
     * C is not transposed, else through the tile buffer t. A's tile is at {@code a[ao]} with stride {@code as}
     * ({@link #INTERLEAVED}: packed), B's micro-panel at {@code pb[bo]}, the chains' start at {@code from}.
     */
    private static void tile(boolean cTransposed, float[] c, int cOff, int ldc, float[] from, int fromOff,
                             int fromLd, float[] a, int ao, int as, float[] pb, int bo, int kc, int i, int j,
                             int rows, int cols, float[] t) {
        if (cTransposed) {
            viaTile(kc, a, ao, as, pb, bo, c, cOff + j * ldc + i, 1, ldc, from, fromOff + j * fromLd + i, 1,
                    fromLd, rows, cols, t);
        } else if (rows == MR && cols == NR) {
            kernel(kc, a, ao, pb, bo, c, cOff + i * ldc + j, ldc, from, fromOff + i * fromLd + j, fromLd);
        } else {
            viaTile(kc, a, ao, as, pb, bo, c, cOff + i * ldc + j, ldc, 1, from, fromOff + i * fromLd + j, fromLd, 1,
                    rows, cols, t);
        }
    }

    /** Panel width for n columns cut into equal panels of at most {@code max}, whole column tiles each. */
    private static int evenPanels(int n, int max) {
        int panels = (n + max - 1) / max;
        return ((n + panels - 1) / panels + NR - 1) / NR * NR;
    }

    /** Which weight a held panel was packed from: the array (by identity), where in it, and its shape. */
    private record HeldKey(float[] b, int bOff, int ldb, boolean transB, int k, int n) {
    }

    /**
     * op(B) packed whole, every k-block after the other: block pc starts at {@code PANEL_START + pc·paddedCols} and
     * holds the column tiles of all n columns as {@link #packB} lays them out, so any part can read its columns
     * from it.
     */
    static final class HeldPanel {
        final float[] data;
        final int paddedCols;
        boolean fresh;

        HeldPanel(int k, int n) {
            paddedCols = (n + NR - 1) / NR * NR;
            data = new float[Math.toIntExact(panelFloats(k, n))];
        }
    }

    /** Floats of a held panel of a k×n op(B), with the floats before its first line. */
    static long panelFloats(int k, int n) {
        return PANEL_START + (long) k * ((n + NR - 1) / NR * NR);
    }

    /**
     * The held panel of op(B), packed by the team (each part its column tiles, every k-block) the first time it is
     * asked for since {@link #releaseHeld}; its storage is kept for the next window. Concurrent micro-batches
     * asking for the same panel wait for the one that packs it.
     */
    HeldPanel heldPanel(Parallel parallel, float[] b, int bOff, int ldb, boolean transB, int k, int n) {
        HeldKey key = new HeldKey(b, bOff, ldb, transB, k, n);
        HeldPanel panel;
        synchronized (held) {
            panel = held.get(key);
            if (panel == null) { // not computeIfAbsent: its capturing lambda would be allocated on every call
                panel = new HeldPanel(k, n);
                held.put(key, panel);
            }
        }
        synchronized (panel) {
            packIfStale(panel, parallel, b, bOff, ldb, transB, k, n);
        }
        return panel;
    }

    private void packIfStale(HeldPanel panel, Parallel parallel, float[] b, int bOff, int ldb, boolean transB,
                             int k, int n) {
        if (!panel.fresh) {
            HeldPanel target = panel;
            int kb = kBlock(k);
            parallel.forParts((n + NR - 1) / NR, 1, (part, t0, t1) -> {
                int[] rows = gatherRows(part, ldb);
                int j0 = t0 * NR;
                int cols = Math.min(n, t1 * NR) - j0;
                for (int pc = 0; pc < k; pc += kb) {
                    int kc = Math.min(kb, k - pc);
                    packB(target.data, PANEL_START + pc * target.paddedCols + j0 * kc, b, bOff, ldb, transB, rows,
                            pc, kc, j0, cols);
                }
            });
            panel.fresh = true;
        }
    }

    /** Marks every held panel stale: the weights may change now. */
    void releaseHeld() {
        synchronized (held) {
            for (HeldPanel p : held.values()) {
                synchronized (p) {
                    p.fresh = false;
                }
            }
        }
    }

    /** Floats of all held panels' storage. */
    long heldFloats() {
        long f = 0;
        synchronized (held) {
            for (HeldPanel p : held.values()) {
                f += p.data.length;
            }
        }
        return f;
    }

    /** The part's gather index map for a transposed B of leading dimension ldb: {@code i·ldb}. */
    private int[] gatherRows(int part, int ldb) {
        int[] rows = rowOffsets[part];
        for (int i = 0; i < W; i++) {
            rows[i] = i * ldb;
        }
        return rows;
    }

    private static float[] buffer(float[][] buffers, int part, int size) {
        float[] buf = buffers[part];
        if (buf == null || buf.length < size) {
            buf = new float[size];
            buffers[part] = buf;
        }
        return buf;
    }

    /**
     * Packs {@code op(B)[pc..pc+kc)[jc..jc+nc)} from {@code pb[pbOff]} on as column tiles of NR: tile t holds, for
     * each p, the NR values {@code op(B)[pc+p][jc+t·NR ..]} contiguously; missing columns are zero.
     * {@code rows[i]} is {@code i·ldb}.
     */
    private static void packB(float[] pb, int pbOff, float[] b, int bOff, int ldb, boolean transB, int[] rows,
                              int pc, int kc, int jc, int nc) {
        for (int jr = 0; jr < nc; jr += NR) {
            int cols = Math.min(NR, nc - jr);
            int dst = pbOff + jr * kc;
            if (!transB) {
                int src = bOff + pc * ldb + jc + jr;
                if (cols == NR) {
                    for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                        System.arraycopy(b, src, pb, dst, NR);
                    }
                } else {
                    for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                        for (int jj = 0; jj < NR; jj++) {
                            pb[dst + jj] = jj < cols ? b[src + jj] : 0f;
                        }
                    }
                }
            } else if (GATHER_TRANSPOSE && cols == NR) {
                int src = bOff + (jc + jr) * ldb + pc;
                int src1 = src + W * ldb;
                for (int p = 0; p < kc; p++, dst += NR) {
                    FloatVector.fromArray(S, b, src + p, rows, 0).intoArray(pb, dst);
                    FloatVector.fromArray(S, b, src1 + p, rows, 0).intoArray(pb, dst + W);
                }
            } else {
                for (int jj = 0; jj < NR; jj++) {
                    if (jj < cols) {
                        int src = bOff + (jc + jr + jj) * ldb + pc;
                        for (int p = 0; p < kc; p++) {
                            pb[dst + p * NR + jj] = b[src + p];
                        }
                    } else {
                        for (int p = 0; p < kc; p++) {
                            pb[dst + p * NR + jj] = 0f;
                        }
                    }
                }
            }
        }
    }

    /**
     * Packs {@code op(A)[ic..ic+mc)[pc..pc+kc)} as row tiles of MR: tile t holds, for each p, the MR values
     * {@code op(A)[ic+t·MR ..][pc+p]} contiguously; missing rows are zero.
     */
    private static void packA(float[] pa, float[] a, int aOff, int lda, boolean transA, int ic, int mc, int pc,
                              int kc) {
        for (int ir = 0; ir < mc; ir += MR) {
            int rows = Math.min(MR, mc - ir);
            int dst = ir * kc;
            if (transA && rows == MR) {
                // A column of the tile is MR consecutive floats of a row of the transposed A: one short copy.
                int src = aOff + pc * lda + ic + ir;
                for (int p = 0; p < kc; p++, src += lda, dst += MR) {
                    System.arraycopy(a, src, pa, dst, MR);
                }
            } else if (transA) {
                int src = aOff + pc * lda + ic + ir;
                for (int p = 0; p < kc; p++, src += lda, dst += MR) {
                    for (int r = 0; r < MR; r++) {
                        pa[dst + r] = r < rows ? a[src + r] : 0f;
                    }
                }
            } else if (rows == MR) {
                // One pass over the tile: MR sequential reads, one sequential write.
                int src = aOff + (ic + ir) * lda + pc;
                for (int p = 0; p < kc; p++, dst += MR) {
                    for (int r = 0; r < MR; r++) {
                        pa[dst + r] = a[src + r * lda + p];
                    }
                }
            } else {
                for (int r = 0; r < MR; r++) {
                    if (r < rows) {
                        int src = aOff + (ic + ir + r) * lda + pc;
                        for (int p = 0; p < kc; p++) {
                            pa[dst + p * MR + r] = a[src + p];
                        }
                    } else {
                        for (int p = 0; p < kc; p++) {
                            pa[dst + p * MR + r] = 0f;
                        }
                    }
                }
            }
        }
    }

    /**
     * A tile through the buffer t (ld NR): an edge tile, whose padding is computed and discarded, or a tile of a
     * transposed C. Output (r, jj) of the tile is {@code c[co + r·rowStride + jj·colStride]}; its chain starts
     * from {@code from[fo + r·fromRowStride + jj·fromColStride]}, or 0 where {@code from} is null.
     */
    private static void viaTile(int kc, float[] a, int ao, int as, float[] pb, int bo, float[] c, int co,
                                int rowStride, int colStride, float[] from, int fo, int fromRowStride,
                                int fromColStride, int rows, int cols, float[] t) {
        for (int r = 0; r < MR; r++) {
            for (int jj = 0; jj < NR; jj++) {
                t[r * NR + jj] = r < rows && jj < cols && from != null
                        ? from[fo + r * fromRowStride + jj * fromColStride] : 0f;
            }
        }
        if (as == INTERLEAVED) {
            kernel(kc, a, ao, pb, bo, t, 0, NR, t, 0, NR);
        } else {
            kernelRows(kc, a, ao, as, pb, bo, t, 0, NR);
        }
        for (int r = 0; r < rows; r++) {
            for (int jj = 0; jj < cols; jj++) {
                c[co + r * rowStride + jj * colStride] = t[r * NR + jj];
            }
        }
    }

    /** The start of a chain of accumulators: the W values at {@code from[off]}, or zeros where from is null. */
    private static FloatVector start(float[] from, int off) {
        return from == null ? FloatVector.zero(S) : FloatVector.fromArray(S, from, off);
    }

    /**
     * The MR×NR micro-kernel: {@code C[r][j] = fma(A[r][p], B[p][j], C[r][j])} for p = 0..kc-1 in order, with the
     * accumulators loaded first from {@code from[fo + r·ld + j]} (C itself, initial values addressed like C, or
     * zeros where from is null) and stored into C at the end. A is a packed tile, {@code a[ao + p·MR + r]}.
     */
    private static void kernel(int kc, float[] a, int ao, float[] b, int bo, float[] c, int co, int ldc,
                               float[] from, int fo, int ld) {
        int f1 = fo + ld;
        int f2 = f1 + ld;
        int f3 = f2 + ld;
        int f4 = f3 + ld;
        int f5 = f4 + ld;
        int f6 = f5 + ld;
        int f7 = f6 + ld;
        FloatVector c00 = start(from, fo);
        FloatVector c01 = start(from, fo + W);
        FloatVector c10 = start(from, f1);
        FloatVector c11 = start(from, f1 + W);
        FloatVector c20 = start(from, f2);
        FloatVector c21 = start(from, f2 + W);
        FloatVector c30 = start(from, f3);
        FloatVector c31 = start(from, f3 + W);
        FloatVector c40 = start(from, f4);
        FloatVector c41 = start(from, f4 + W);
        FloatVector c50 = null;
        FloatVector c51 = null;
        FloatVector c60 = null;
        FloatVector c61 = null;
        FloatVector c70 = null;
        FloatVector c71 = null;
        if (EIGHT_ROWS) {
            c50 = start(from, f5);
            c51 = start(from, f5 + W);
            c60 = start(from, f6);
            c61 = start(from, f6 + W);
            c70 = start(from, f7);
            c71 = start(from, f7 + W);
        }
        for (int p = 0; p < kc; p++) {
            int ap = ao + p * MR;
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + W);
            FloatVector x = FloatVector.broadcast(S, a[ap]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ap + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ap + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ap + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ap + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            if (EIGHT_ROWS) {
                x = FloatVector.broadcast(S, a[ap + 5]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                x = FloatVector.broadcast(S, a[ap + 6]);
                c60 = x.fma(b0, c60);
                c61 = x.fma(b1, c61);
                x = FloatVector.broadcast(S, a[ap + 7]);
                c70 = x.fma(b0, c70);
                c71 = x.fma(b1, c71);
            }
        }
        int c1 = co + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        int c4 = c3 + ldc;
        int c5 = c4 + ldc;
        int c6 = c5 + ldc;
        int c7 = c6 + ldc;
        c00.intoArray(c, co);
        c01.intoArray(c, co + W);
        c10.intoArray(c, c1);
        c11.intoArray(c, c1 + W);
        c20.intoArray(c, c2);
        c21.intoArray(c, c2 + W);
        c30.intoArray(c, c3);
        c31.intoArray(c, c3 + W);
        c40.intoArray(c, c4);
        c41.intoArray(c, c4 + W);
        if (EIGHT_ROWS) {
            c50.intoArray(c, c5);
            c51.intoArray(c, c5 + W);
            c60.intoArray(c, c6);
            c61.intoArray(c, c6 + W);
            c70.intoArray(c, c7);
            c71.intoArray(c, c7 + W);
        }
    }

    /**
     * {@link #kernel} for MR rows of A read in place, {@code a[ao + r·as + p]} (the swapped form's W). A second
     * loop rather than a layout flag in one: C2 keeps the flag's test inside the loop, which slows the packed path.
     */
    private static void kernelRows(int kc, float[] a, int ao, int as, float[] b, int bo, float[] c, int co,
                                   int ldc) {
        int a1 = ao + as;
        int a2 = a1 + as;
        int a3 = a2 + as;
        int a4 = a3 + as;
        int a5 = a4 + as;
        int a6 = a5 + as;
        int a7 = a6 + as;
        int c1 = co + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        int c4 = c3 + ldc;
        int c5 = c4 + ldc;
        int c6 = c5 + ldc;
        int c7 = c6 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, co);
        FloatVector c01 = FloatVector.fromArray(S, c, co + W);
        FloatVector c10 = FloatVector.fromArray(S, c, c1);
        FloatVector c11 = FloatVector.fromArray(S, c, c1 + W);
        FloatVector c20 = FloatVector.fromArray(S, c, c2);
        FloatVector c21 = FloatVector.fromArray(S, c, c2 + W);
        FloatVector c30 = FloatVector.fromArray(S, c, c3);
        FloatVector c31 = FloatVector.fromArray(S, c, c3 + W);
        FloatVector c40 = FloatVector.fromArray(S, c, c4);
        FloatVector c41 = FloatVector.fromArray(S, c, c4 + W);
        FloatVector c50 = null;
        FloatVector c51 = null;
        FloatVector c60 = null;
        FloatVector c61 = null;
        FloatVector c70 = null;
        FloatVector c71 = null;
        if (EIGHT_ROWS) {
            c50 = FloatVector.fromArray(S, c, c5);
            c51 = FloatVector.fromArray(S, c, c5 + W);
            c60 = FloatVector.fromArray(S, c, c6);
            c61 = FloatVector.fromArray(S, c, c6 + W);
            c70 = FloatVector.fromArray(S, c, c7);
            c71 = FloatVector.fromArray(S, c, c7 + W);
        }
        for (int p = 0; p < kc; p++) {
            int bp = bo + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bp);
            FloatVector b1 = FloatVector.fromArray(S, b, bp + W);
            FloatVector x = FloatVector.broadcast(S, a[ao + p]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[a1 + p]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[a2 + p]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[a3 + p]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[a4 + p]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            if (EIGHT_ROWS) {
                x = FloatVector.broadcast(S, a[a5 + p]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
                x = FloatVector.broadcast(S, a[a6 + p]);
                c60 = x.fma(b0, c60);
                c61 = x.fma(b1, c61);
                x = FloatVector.broadcast(S, a[a7 + p]);
                c70 = x.fma(b0, c70);
                c71 = x.fma(b1, c71);
            }
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + W);
        c10.intoArray(c, c1);
        c11.intoArray(c, c1 + W);
        c20.intoArray(c, c2);
        c21.intoArray(c, c2 + W);
        c30.intoArray(c, c3);
        c31.intoArray(c, c3 + W);
        c40.intoArray(c, c4);
        c41.intoArray(c, c4 + W);
        if (EIGHT_ROWS) {
            c50.intoArray(c, c5);
            c51.intoArray(c, c5 + W);
            c60.intoArray(c, c6);
            c61.intoArray(c, c6 + W);
            c70.intoArray(c, c7);
            c71.intoArray(c, c7 + W);
        }
    }
}
