package io.accrue.tensor.gemm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.Tensor;
import io.accrue.tensor.Teams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Gemm} against the oracle {@link GemmReference}, bit for bit (law 3): every transpose form, odd and
 * multi-block shapes, every thread count, rows cut across calls, and sub-matrix views.
 */
class GemmTest {
    private static final int[] SMALL = {1, 7, 33, 127};
    private static Parallel one;
    private static Parallel two;
    private static Parallel three;

    @BeforeAll
    static void start() {
        one = new Parallel(1);
        two = new Parallel(2);
        three = new Parallel(3);
    }

    @AfterAll
    static void stop() {
        one.close();
        two.close();
        three.close();
    }

    /** A test run must exercise the Vector kernel, not silently the scalar fallback. */
    @Test
    void vectorKernelIsActive() {
        assertTrue(new Gemm(one).vectorized(), "surefire must run with --add-modules jdk.incubator.vector");
    }

    @Test
    void allTransposeFormsMatchOracleOnOddShapes() {
        Gemm gemm = new Gemm(two);
        for (int form = 0; form < 4; form++) {
            boolean transA = (form & 1) != 0;
            boolean transB = (form & 2) != 0;
            for (int m : SMALL) {
                for (int n : SMALL) {
                    for (int k : SMALL) {
                        check(gemm, m, n, k, transA, transB, 31L * m + 17L * n + k);
                    }
                }
            }
        }
    }

    @Test
    void biggerShapesAndSeveralKBlocksMatchOracle() {
        Gemm gemm = new Gemm(two);
        int[][] shapes = {
                {200, 129, 300},   // several row blocks of A, odd n
                {37, 45, 1700},    // k > KC: three k blocks of 567
                {86, 1041, 800},   // n > NC: two column panels; k: two k blocks
                {4, 3, 2000},      // tiny tiles, long chain
                {9, 1100, 1700},   // few rows: B read in place; two column panels, a ragged tile, three k blocks
        };
        for (int[] s : shapes) {
            for (int form = 0; form < 4; form++) {
                check(gemm, s[0], s[1], s[2], (form & 1) != 0, (form & 2) != 0, s[0] * 7L + form);
            }
        }
    }

    @Test
    void sameBitsForOneTwoAndThreeThreads() {
        int[][] shapes = {{200, 129, 300}, {403, 40, 70}, {9, 700, 50}, {64, 80, 1000}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (int form = 0; form < 4; form++) {
                boolean transA = (form & 1) != 0;
                boolean transB = (form & 2) != 0;
                SplittableRandom random = new SplittableRandom(m * 1000L + form);
                float[] a = random(random, m * k);
                float[] b = random(random, k * n);
                float[] c0 = random(random, m * n);
                float[] expected = c0.clone();
                GemmReference.multiply(expected, 0, n, a, 0, transA ? m : k, transA, b, 0, transB ? k : n, transB,
                        m, n, k);
                for (Parallel p : List.of(one, two, three)) {
                    float[] c = c0.clone();
                    multiply(new Gemm(p), c, 0, n, a, 0, transA ? m : k, transA, b, 0, transB ? k : n, transB, m, n,
                            k);
                    assertBits(expected, c, "threads=" + p.threads() + " " + m + "x" + n + "x" + k + " form " + form);
                }
            }
        }
    }

    /**
     * The team cuts parts in proportion to its threads' measured speeds, so a GEMM may be cut anywhere between
     * tiles: every cut must give the oracle's bits.
     */
    @Test
    void sameBitsForUnevenCuts() {
        double[][] speeds = {{1, 5}, {5, 1}, {3, 1, 0.5}, {0.3, 0.3, 4}};
        for (double[] speed : speeds) {
            try (Parallel p = Teams.withSpeeds(speed)) {
                for (int form = 0; form < 4; form++) {
                    check(new Gemm(p), 203, 129, 300, (form & 1) != 0, (form & 2) != 0, form);
                    check(new Gemm(p), 9, 700, 50, (form & 1) != 0, (form & 2) != 0, form);
                }
            }
        }
    }

    /**
     * A small micro-batch's forward X·Wᵀ runs as Cᵀ += W·Xᵀ (C through the tile buffer, transposed); it must
     * still give the oracle's bits, for views inside larger matrices and every thread count.
     */
    @Test
    void transposedPathForFewRowsMatchesOracle() {
        assertTrue(Gemm.transposedIsCheaper(8, 1024, 784, false, true), "MLP forward at B=8 takes the swap");
        assertTrue(!Gemm.transposedIsCheaper(2048, 1152, 384, false, true), "a large batch keeps the normal path");
        int m = 8;
        int n = 301;
        int k = 203;
        int lda = k + 3;
        int ldb = k + 5;
        int ldc = n + 7;
        assertTrue(Gemm.transposedIsCheaper(m, n, k, false, true));
        SplittableRandom random = new SplittableRandom(11);
        float[] a = random(random, 2 + m * lda);
        float[] b = random(random, 4 + n * ldb);
        float[] c0 = random(random, 3 + m * ldc);
        float[] expected = c0.clone();
        GemmReference.multiply(expected, 3, ldc, a, 2, lda, false, b, 4, ldb, true, m, n, k);
        for (Parallel p : List.of(one, two, three)) {
            float[] c = c0.clone();
            multiply(new Gemm(p), c, 3, ldc, a, 2, lda, false, b, 4, ldb, true, m, n, k);
            assertBits(expected, c, "transposed path, threads=" + p.threads());
        }
    }

    /** dW += dYᵀ·X over all rows in one call equals the rows cut into micro-batches of any size. */
    @Test
    void weightGradientIsExactAcrossRowSplits() {
        checkRowSplits(64, 37, 45, new int[] {1, 8, 13});
        checkRowSplits(1000, 21, 70, new int[] {333, 700});
    }

    private static void checkRowSplits(int rows, int out, int in, int[] chunks) {
        SplittableRandom random = new SplittableRandom(rows + out * 31L + in);
        float[] dy = random(random, rows * out); // (rows, out)
        float[] x = random(random, rows * in);   // (rows, in)
        float[] dw0 = random(random, out * in);  // (out, in), already holding earlier gradients
        float[] whole = dw0.clone();
        Gemm gemm = new Gemm(two);
        multiply(gemm, whole, 0, in, dy, 0, out, true, x, 0, in, false, out, in, rows);
        float[] oracle = dw0.clone();
        GemmReference.multiply(oracle, 0, in, dy, 0, out, true, x, 0, in, false, out, in, rows);
        assertBits(oracle, whole, "whole batch vs oracle");
        for (int chunk : chunks) {
            for (Parallel p : List.of(one, two)) {
                float[] dw = dw0.clone();
                Gemm g = new Gemm(p);
                for (int r0 = 0; r0 < rows; r0 += chunk) {
                    int r = Math.min(chunk, rows - r0);
                    multiply(g, dw, 0, in, dy, r0 * out, out, true, x, r0 * in, in, false, out, in, r);
                }
                assertBits(whole, dw, "rows " + rows + " in chunks of " + chunk + ", threads " + p.threads());
            }
        }
    }

    /** Sub-matrix views: offsets and leading dimensions larger than the row; nothing outside the view changes. */
    @Test
    void subMatrixViewsWithLargerLeadingDimensions() {
        int m = 23;
        int n = 37;
        int k = 19;
        Gemm gemm = new Gemm(two);
        for (int form = 0; form < 4; form++) {
            boolean transA = (form & 1) != 0;
            boolean transB = (form & 2) != 0;
            SplittableRandom random = new SplittableRandom(form);
            int lda = (transA ? m : k) + 5;
            int ldb = (transB ? k : n) + 3;
            int ldc = n + 11;
            int aOff = 7;
            int bOff = 13;
            int cOff = 2 * ldc + 3;
            float[] a = random(random, aOff + (transA ? k : m) * lda);
            float[] b = random(random, bOff + (transB ? n : k) * ldb);
            float[] c = random(random, cOff + m * ldc + 9);
            float[] expected = c.clone();
            GemmReference.multiply(expected, cOff, ldc, a, aOff, lda, transA, b, bOff, ldb, transB, m, n, k);
            float[] before = c.clone();
            multiply(gemm, c, cOff, ldc, a, aOff, lda, transA, b, bOff, ldb, transB, m, n, k);
            assertBits(expected, c, "view form " + form);
            for (int i = 0; i < c.length; i++) {
                int rel = i - cOff;
                boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
                if (!inside) {
                    assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(c[i]),
                            "element " + i + " outside the view changed");
                }
            }
        }
    }

    @Test
    void scalarFallbackMatchesOracle() {
        Gemm scalar = new Gemm(two, false);
        assertTrue(!scalar.vectorized());
        check(scalar, 33, 127, 7, false, true, 5);
        check(scalar, 127, 33, 64, true, false, 6);
    }

    /** Without the incubator module, Gemm warns once on stderr and still gives the oracle's bits. */
    @Test
    void withoutVectorModuleFallsBackWithOneWarning() throws IOException, InterruptedException {
        String[] result = probe();
        assertEquals("vectorized=false bits=0 equal=true", result[0], result[1]);
        long warnings = result[1].lines().filter(l -> l.contains("jdk.incubator.vector not enabled")).count();
        assertEquals(1, warnings, result[1]);
    }

    /**
     * The kernel takes the CPU's widest vectors (512 or 256 bits); both widths must give the oracle's bits on
     * every machine, so each is forced in a child JVM (a width the CPU lacks runs emulated, slowly but exactly).
     */
    @ParameterizedTest
    @ValueSource(ints = {256, 512})
    void bothVectorWidthsMatchOracle(int bits) throws IOException, InterruptedException {
        String[] result = probe("--add-modules", "jdk.incubator.vector", "-Daccrue.gemm.vectorBits=" + bits);
        assertEquals("vectorized=true bits=" + bits + " equal=true", result[0], result[1]);
    }

    /** Runs {@link GemmProbe} in a child JVM with {@code jvmOptions}; returns its stdout line and its stderr. */
    private static String[] probe(String... jvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), GemmProbe.class.getName()));
        Process process = new ProcessBuilder(command).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), err);
        return new String[] {out.strip(), err};
    }

    /**
     * A held weight gives the oracle's bits (rows and columns split, several column panels and k-blocks, a
     * weight inside a larger buffer), as W (the backward's dY·W) and as Wᵀ (the forward's X·Wᵀ), on every use, and
     * after a release the changed weight, never the stale one.
     */
    @Test
    void heldWeightsGiveTheSameBitsAndFollowChangesAfterARelease() {
        // weights of at least Gemm.HOLD_MIN_FLOATS: smaller ones are not held
        int[][] shapes = {{256, 384, 1536}, {200, 129, 2100}, {9, 1100, 1700}, {64, 300, 1000}};
        int heldTransposed = 0;
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (boolean transB : new boolean[] {false, true}) {
                for (Parallel p : List.of(one, two, three)) {
                    String what = "threads=" + p.threads() + " " + m + "x" + n + "x" + k + " transB=" + transB;
                    SplittableRandom random = new SplittableRandom(m * 31L + p.threads());
                    float[] a = random(random, m * k);
                    float[] buffer = random(random, 5 + k * n);  // the weight at offset 5, like a parameter view
                    Gemm gemm = new Gemm(p);
                    gemm.holdWeights(true);
                    for (int use = 0; use < 2; use++) {  // the second use reads the panel the first one packed
                        checkHeld(gemm, a, buffer, m, n, k, transB, what);
                    }
                    gemm.holdWeights(false);
                    buffer[5 + (k / 2) * n + n / 3] += 1f;  // the step boundary changes the weight
                    gemm.holdWeights(true);
                    checkHeld(gemm, a, buffer, m, n, k, transB, "after a release, " + what);
                    gemm.holdWeights(false);
                    boolean held = Gemm.heldWeightFloats(m, k, n, transB) > 0;
                    assertEquals(held, gemm.heldWeightFloats() >= (long) k * n,
                            "held as planned, and the panel stays allocated for the next window: " + what);
                    heldTransposed += held && transB ? 1 : 0;
                }
            }
        }
        assertTrue(heldTransposed > 0, "some Wᵀ is held");
        Gemm gemm = new Gemm(two);
        gemm.holdWeights(true);
        checkHeld(gemm, new float[64 * 60], new float[5 + 60 * 60], 64, 60, 60, false, "a small weight");
        assertEquals(0, gemm.heldWeightFloats(), "3,600 floats are packed as usual, not held");
    }

    /**
     * Weight gradients and held weights wider than {@link VectorGemm#NC_ROWS_OUTER} run their row tiles outside
     * their column tiles, in sub-panels (on AVX-512): ragged rows, a ragged last column tile, several sub-panels
     * and k-blocks, on one thread (whole width) and on two and three (cut into column or row parts).
     */
    @Test
    void rowOuterOrderMatchesOracle() {
        int[][] shapes = {{203, 1100, 300}, {40, 1541, 700}, {17, 520, 33}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (Parallel p : List.of(one, two, three)) {
                String what = "threads=" + p.threads() + " " + m + "x" + n + "x" + k;
                check(new Gemm(p), m, n, k, true, false, m * 11L + p.threads());
                SplittableRandom random = new SplittableRandom(m * 13L + p.threads());
                Gemm gemm = new Gemm(p);
                gemm.holdWeights(true);
                checkHeld(gemm, random(random, m * k), random(random, 5 + k * n), m, n, k, false, "held, " + what);
                gemm.holdWeights(false);
            }
        }
    }

    /**
     * {@code C = I + op(A)·op(B)} gives the bits of setting C to I and accumulating, for I a bias row, a matrix or
     * zeros, on the packed, swapped (few rows), held, multi-block and scalar paths, and for k = 0; C's old values
     * (NaN here) are never read.
     */
    @Test
    void initialValuesGiveTheBitsOfSettingCFirst() {
        int[][] shapes = {{37, 45, 19}, {8, 301, 203}, {300, 70, 600}, {256, 384, 1536}, {5, 9, 0}};
        for (int[] s : shapes) {
            int m = s[0];
            int n = s[1];
            int k = s[2];
            for (boolean transB : new boolean[] {false, true}) {
                for (Gemm gemm : List.of(new Gemm(one), new Gemm(three), new Gemm(two, false))) {
                    SplittableRandom random = new SplittableRandom(m * 7L + k);
                    float[] a = random(random, m * k);
                    float[] w = random(random, 5 + k * n);
                    float[] init = random(random, 3 + m * (n + 2));
                    for (int initLd : new int[] {0, n + 2, -1}) { // a bias row, a matrix, zeros
                        float[] from = initLd < 0 ? null : init;
                        float[] expected = new float[m * n];
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                expected[i * n + j] = from == null ? 0f : init[3 + i * initLd + j];
                            }
                        }
                        GemmReference.multiply(expected, 0, n, a, 0, k, false, w, 5, transB ? k : n, transB, m, n, k);
                        for (boolean hold : new boolean[] {false, true}) {
                            float[] c = new float[m * n];
                            Arrays.fill(c, Float.NaN);
                            gemm.holdWeights(hold);
                            multiplyByWeight(gemm, c, 0, n, from, 3, Math.max(initLd, 0), a, 0, k, false, w, 5,
                                    transB ? k : n, transB, m, n, k);
                            gemm.holdWeights(false);
                            assertBits(expected, c, m + "x" + n + "x" + k + " transB=" + transB + " initLd=" + initLd
                                    + " hold=" + hold + " threads=" + gemm.parallel().threads() + " vector="
                                    + gemm.vectorized());
                        }
                    }
                }
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> multiplyByWeight(new Gemm(one), new float[20], 0, 5, new float[20], 0, 3, new float[8], 0, 2,
                        false, new float[10], 0, 5, false, 4, 5, 2));
        assertEquals("initial values' leading dimension 3 is below n=5 (0 repeats one row)", e.getMessage());
    }

    /**
     * The views ops build from tensors: {@code Matrix.of(t)} is t's (rows, cols), {@code t()} its transpose on the
     * same storage, {@code repeatedRow} a bias; a linear layer's three products through them give the oracle's bits.
     * Shapes that do not multiply are refused with the views named.
     */
    @Test
    void matrixViewsOfTensorsGiveTheOracleBitsAndShapesAreChecked() {
        int n = 13;
        int in = 37;
        int out = 29;
        SplittableRandom random = new SplittableRandom(3);
        Tensor x = Tensor.of(random(random, 2 * n * in), 2, n, in); // (B, T, in): N = B·T rows
        Tensor w = Tensor.of(random(random, out * in), out, in);
        Tensor bias = Tensor.of(random(random, out), out);
        Tensor dy = Tensor.of(random(random, 2 * n * out), 2 * n, out);
        Gemm gemm = new Gemm(two);
        // Y = b + X·Wᵀ
        float[] y = new float[2 * n * out];
        gemm.multiplyByWeight(Matrix.of(y, 0, 2 * n, out), Matrix.repeatedRow(bias, 2 * n), Matrix.of(x),
                Matrix.of(w).t());
        float[] expected = new float[2 * n * out];
        for (int r = 0; r < 2 * n; r++) {
            System.arraycopy(bias.data(), 0, expected, r * out, out);
        }
        GemmReference.multiply(expected, 0, out, x.data(), 0, in, false, w.data(), 0, in, true, 2 * n, out, in);
        assertBits(expected, y, "forward");
        // dW += dYᵀ·X
        float[] dw = random(random, out * in);
        float[] dwExpected = dw.clone();
        gemm.multiply(Matrix.of(new Tensor(dw, 0, out, in)), Matrix.of(dy).t(), Matrix.of(x));
        GemmReference.multiply(Matrix.of(dwExpected, 0, out, in), Matrix.of(dy).t(), Matrix.of(x));
        assertBits(dwExpected, dw, "weight gradient");
        // dX += dY·W
        float[] dx = random(random, 2 * n * in);
        float[] dxExpected = dx.clone();
        gemm.multiplyByWeight(Matrix.of(dx, 0, 2 * n, in), Matrix.of(dy), Matrix.of(w));
        GemmReference.multiply(dxExpected, 0, in, dy.data(), 0, out, false, w.data(), 0, in, false, 2 * n, in, out);
        assertBits(dxExpected, dx, "input gradient");
        // C = A·B over C's old values (NaN: never read), as a convolution's W·cols and Wᵀ·dY
        float[] fresh = new float[2 * n * in];
        Arrays.fill(fresh, Float.NaN);
        float[] freshExpected = new float[2 * n * in];
        gemm.multiplyInto(Matrix.of(fresh, 0, 2 * n, in), Matrix.of(dy), Matrix.of(w));
        GemmReference.multiply(freshExpected, 0, in, dy.data(), 0, out, false, w.data(), 0, in, false, 2 * n, in,
                out);
        assertBits(freshExpected, fresh, "product into C");
        assertThrows(IllegalArgumentException.class, () -> gemm.multiplyInto(Matrix.of(dy), Matrix.of(x),
                Matrix.of(w)));

        Matrix wt = Matrix.of(w).t();
        assertEquals(new Matrix(w.data(), 0, in, in, out, true), wt);
        assertEquals(Matrix.of(w), wt.t());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> gemm.multiply(Matrix.of(dy), Matrix.of(x), Matrix.of(w)));
        assertEquals("shapes do not multiply: C Matrix[26×29, offset=0, ld=29] += A Matrix[26×37, offset=0, ld=37]"
                + " · B Matrix[29×37, offset=0, ld=37]", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> gemm.multiply(Matrix.of(dy).t(), Matrix.of(w),
                Matrix.of(x).t()), "C must not be transposed");
        assertThrows(IllegalArgumentException.class, () -> Matrix.of(w, out, in + 1));
    }

    /**
     * A linear layer's three forms on tensors give the oracle's bits: the forward from the bias or from zeros, the
     * input gradient accumulated or fresh (its old values never read), the weight gradient across row splits; held
     * or not, on one thread and two. Mismatched shapes are refused.
     */
    @Test
    void linearFormsOnTensorsGiveTheOracleBits() {
        int n = 37;
        int in = 70;
        int out = 90; // W of 6,300 floats: held when the trainer holds weights
        SplittableRandom random = new SplittableRandom(17);
        Tensor x = Tensor.of(random(random, n * in), n, in);
        Tensor w = Tensor.of(random(random, out * in), out, in);
        Tensor bias = Tensor.of(random(random, out), out);
        Tensor dy = Tensor.of(random(random, n * out), n, out);
        float[] dx0 = random(random, n * in);
        float[] dw0 = random(random, out * in);
        for (Parallel p : List.of(one, two)) {
            for (boolean hold : new boolean[] {false, true}) {
                String what = "threads=" + p.threads() + " hold=" + hold;
                Gemm gemm = new Gemm(p);
                gemm.holdWeights(hold);
                for (Tensor b : new Tensor[] {bias, null}) {
                    float[] expected = new float[n * out];
                    for (int r = 0; r < n && b != null; r++) {
                        System.arraycopy(b.data(), 0, expected, r * out, out);
                    }
                    GemmReference.multiply(expected, 0, out, x.data(), 0, in, false, w.data(), 0, in, true, n, out,
                            in);
                    Tensor y = new Tensor(new float[n * out], 0, n, out);
                    Arrays.fill(y.data(), Float.NaN);
                    gemm.linearForward(y, b, x, w);
                    assertBits(expected, y.data(), "forward, bias " + (b != null) + ", " + what);
                }
                for (boolean accumulate : new boolean[] {true, false}) {
                    float[] expected = accumulate ? dx0.clone() : new float[n * in];
                    GemmReference.multiply(expected, 0, in, dy.data(), 0, out, false, w.data(), 0, in, false, n, in,
                            out);
                    Tensor dx = new Tensor(accumulate ? dx0.clone() : new float[n * in], 0, n, in);
                    if (!accumulate) {
                        Arrays.fill(dx.data(), Float.NaN);
                    }
                    gemm.linearInputGradient(dx, accumulate, dy, w);
                    assertBits(expected, dx.data(), "input gradient, accumulate " + accumulate + ", " + what);
                }
                float[] expected = dw0.clone();
                GemmReference.multiply(expected, 0, in, dy.data(), 0, out, true, x.data(), 0, in, false, out, in, n);
                Tensor dw = new Tensor(dw0.clone(), 0, out, in);
                for (int r0 = 0; r0 < n; r0 += 10) { // rows cut into micro-batches: the same chains
                    int r = Math.min(10, n - r0);
                    gemm.linearWeightGradient(dw, new Tensor(dy.data(), r0 * out, r, out),
                            new Tensor(x.data(), r0 * in, r, in));
                }
                assertBits(expected, dw.data(), "weight gradient, " + what);
                gemm.holdWeights(false);
            }
        }
        Gemm gemm = new Gemm(one);
        assertThrows(IllegalArgumentException.class,
                () -> gemm.linearForward(Tensor.zeros(n, out), Tensor.zeros(out + 1), x, w));
        assertThrows(IllegalArgumentException.class,
                () -> gemm.linearInputGradient(Tensor.zeros(n, in), true, Tensor.zeros(n, in), w));
        assertThrows(IllegalArgumentException.class,
                () -> gemm.linearWeightGradient(Tensor.zeros(in, out), dy, x));
    }

    private static void checkHeld(Gemm gemm, float[] a, float[] buffer, int m, int n, int k, boolean transB,
                                  String what) {
        int ldb = transB ? k : n;
        float[] expected = new float[m * n];
        GemmReference.multiply(expected, 0, n, a, 0, k, false, buffer, 5, ldb, transB, m, n, k);
        float[] c = new float[m * n];
        multiplyByWeight(gemm, c, 0, n, a, 0, k, false, buffer, 5, ldb, transB, m, n, k);
        assertBits(expected, c, what);
    }

    private static void check(Gemm gemm, int m, int n, int k, boolean transA, boolean transB, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int lda = transA ? m : k;
        int ldb = transB ? k : n;
        float[] a = random(random, m * k);
        float[] b = random(random, k * n);
        float[] c = random(random, m * n);
        float[] expected = c.clone();
        GemmReference.multiply(expected, 0, n, a, 0, lda, transA, b, 0, ldb, transB, m, n, k);
        multiply(gemm, c, 0, n, a, 0, lda, transA, b, 0, ldb, transB, m, n, k);
        assertBits(expected, c, m + "x" + n + "x" + k + " transA=" + transA + " transB=" + transB);
    }

    /** {@code C += op(A)·op(B)} through {@link Gemm#multiply}, operands as {@link Matrix} views of flat arrays. */
    private static void multiply(Gemm gemm, float[] c, int cOff, int ldc, float[] a, int aOff, int lda, boolean transA,
                                 float[] b, int bOff, int ldb, boolean transB, int m, int n, int k) {
        gemm.multiply(new Matrix(c, cOff, ldc, m, n, false), new Matrix(a, aOff, lda, m, k, transA),
                new Matrix(b, bOff, ldb, k, n, transB));
    }

    /** {@link Gemm#multiplyByWeight(Matrix, Matrix, Matrix)}: {@code C += A·op(W)}. */
    private static void multiplyByWeight(Gemm gemm, float[] c, int cOff, int ldc, float[] a, int aOff, int lda,
                                         boolean transA, float[] b, int bOff, int ldb, boolean transB, int m, int n,
                                         int k) {
        gemm.multiplyByWeight(new Matrix(c, cOff, ldc, m, n, false), new Matrix(a, aOff, lda, m, k, transA),
                new Matrix(b, bOff, ldb, k, n, transB));
    }

    /** {@link Gemm#multiplyByWeight(Matrix, Matrix, Matrix, Matrix)}: {@code C = I + A·op(W)}, I null for zeros. */
    private static void multiplyByWeight(Gemm gemm, float[] c, int cOff, int ldc, float[] init, int initOff,
                                         int initLd, float[] a, int aOff, int lda, boolean transA, float[] b, int bOff,
                                         int ldb, boolean transB, int m, int n, int k) {
        gemm.multiplyByWeight(new Matrix(c, cOff, ldc, m, n, false),
                init == null ? null : new Matrix(init, initOff, initLd, m, n, false),
                new Matrix(a, aOff, lda, m, k, transA), new Matrix(b, bOff, ldb, k, n, transB));
    }

    /** Values of varied magnitude and sign, so that a fused and an unfused multiply-add differ often. */
    private static float[] random(SplittableRandom random, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) (random.nextDouble(-1, 1) * Math.scalb(1.0, random.nextInt(-4, 5)));
        }
        return x;
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", oracle " + expected[i]);
            }
        }
    }
}
