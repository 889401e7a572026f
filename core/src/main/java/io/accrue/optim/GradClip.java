package io.accrue.optim;

import io.accrue.tensor.Parallel;
import io.accrue.tensor.ParameterStore;

import java.util.Objects;

/**
 * Global-norm gradient clipping with PyTorch's {@code clip_grad_norm_} semantics.
 *
 * <p>{@code norm = sqrt(sum of grad[i]^2 over [0, store.size()))}; if {@code norm > maxNorm} every gradient is
 * multiplied by {@code maxNorm / (norm + 1e-6)}. Call it at the step boundary after normalizing and after the
 * non-finite check, before {@link Optimizer#step}.
 *
 * <p>The sum of squares is taken in double over fixed chunks of {@value #CHUNK} elements, each chunk one
 * chain in index order, and the chunk sums are added in chunk order; the threads only choose who computes a
 * chunk. The norm therefore has the same bits for every thread count, sequential included.
 */
public final class GradClip {

    /** Elements per chunk of the sum of squares; fixed, so the summation order never depends on threads. */
    public static final int CHUNK = 1 << 16;

    private GradClip() {
    }

    /** The global L2 norm of the gradients {@code [0, store.size())}, computed on the calling thread. */
    public static double globalNorm(ParameterStore store) {
        float[] g = Objects.requireNonNull(store, "store").grads();
        int n = store.size();
        double sum = 0;
        for (int from = 0; from < n; from += CHUNK) {
            sum += chunkSumOfSquares(g, from, Math.min(n, from + CHUNK));
        }
        return Math.sqrt(sum);
    }

    /** The global L2 norm of the gradients, chunks shared among the team; same bits as the sequential form. */
    public static double globalNorm(ParameterStore store, Parallel parallel) {
        float[] g = Objects.requireNonNull(store, "store").grads();
        Objects.requireNonNull(parallel, "parallel");
        int n = store.size();
        int chunks = (int) (((long) n + CHUNK - 1) / CHUNK);
        double[] partial = new double[chunks];
        parallel.forRange(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) {
                int from = c * CHUNK;
                partial[c] = chunkSumOfSquares(g, from, Math.min(n, from + CHUNK));
            }
        });
        double sum = 0;
        for (double p : partial) {
            sum += p;
        }
        return Math.sqrt(sum);
    }

    /**
     * Clips the gradients {@code [0, store.size())} to global norm {@code maxNorm}, sequentially.
     *
     * @return the norm before clipping (may be NaN or infinite; then nothing is scaled)
     * @throws IllegalArgumentException if {@code maxNorm} is NaN or not {@code > 0}
     */
    public static double clipGlobalNorm(ParameterStore store, float maxNorm) {
        checkMaxNorm(maxNorm);
        double norm = globalNorm(store);
        if (norm > maxNorm && Double.isFinite(norm)) {
            scale(store.grads(), 0, store.size(), (float) (maxNorm / (norm + 1e-6)));
        }
        return norm;
    }

    /** As {@link #clipGlobalNorm(ParameterStore, float)}, with the team; same bits for every thread count. */
    public static double clipGlobalNorm(ParameterStore store, float maxNorm, Parallel parallel) {
        checkMaxNorm(maxNorm);
        double norm = globalNorm(store, parallel);
        if (norm > maxNorm && Double.isFinite(norm)) {
            float coef = (float) (maxNorm / (norm + 1e-6));
            float[] g = store.grads();
            parallel.forRange(store.size(), CHUNK, (from, to) -> scale(g, from, to, coef));
        }
        return norm;
    }

    private static void checkMaxNorm(float maxNorm) {
        if (!(maxNorm > 0f)) {
            throw new IllegalArgumentException("maxNorm must be > 0, got " + maxNorm);
        }
    }

    private static double chunkSumOfSquares(float[] g, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            double x = g[i];
            s += x * x; // float^2 is exact in double
        }
        return s;
    }

    private static void scale(float[] g, int from, int to, float coef) {
        for (int i = from; i < to; i++) {
            g[i] *= coef;
        }
    }
}
