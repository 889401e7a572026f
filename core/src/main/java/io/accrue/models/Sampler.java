package io.accrue.models;

import io.accrue.tensor.KeyedRandom;

import java.util.Arrays;

/**
 * How a decoder picks the next token from a row of logits. At temperature 0: greedy, the argmax (the lowest id
 * among equal maxima). Otherwise a draw from {@code softmax(logits / temperature)} restricted first to the
 * {@code topK} most likely tokens (0: no limit), then to the fewest most likely tokens whose probability, renormalized
 * over those left, reaches {@code topP} (1: no limit); ties in likelihood go to the lower id.
 *
 * <p>The draw of new token j of sequence i is keyed by (seed, i, j) (law 5): generation is a pure function of the
 * model, the prompts and this policy. Without a limit the draw walks the tokens in id order, with one in order of
 * likelihood. An instance keeps its scratch (the order, the weights) between calls: it serves one decoder at a time.
 */
public final class Sampler {
    /** Key of the sampling draws' stream in {@link KeyedRandom#hash}. */
    private static final long DRAW_STREAM = 0x5a4d;

    private final double temperature;
    private final int topK;
    private final double topP;
    private final long seed;
    private long[] order = new long[0];
    private double[] weights = new double[0];

    /**
     * @param temperature ≥ 0; 0 is greedy
     * @param topK        ≥ 0; 0 keeps every token
     * @param topP        in (0, 1]; 1 keeps every token
     * @param seed        the key of the draws
     */
    public Sampler(double temperature, int topK, double topP, long seed) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a number ≥ 0 (0: greedy), got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be ≥ 0 (0: no limit), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top-p must be in (0, 1] (1: no limit), got " + topP);
        }
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.seed = seed;
    }

    /** Greedy decoding: always the argmax. */
    public static Sampler greedy() {
        return new Sampler(0, 0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature == 0;
    }

    /** The next token of sequence {@code sequence}, its {@code step}-th new one, from logits[off, off + vocab). */
    public int next(float[] logits, int off, int vocab, int sequence, int step) {
        if (temperature == 0) {
            return argmax(logits, off, vocab);
        }
        boolean limited = (topK > 0 && topK < vocab) || topP < 1;
        if (order.length < vocab) {
            order = new long[vocab];
            weights = new double[vocab];
        }
        rank(logits, off, vocab, limited);
        float max = logits[off + argmax(logits, off, vocab)];
        int kept = topK > 0 ? Math.min(topK, vocab) : vocab;
        double total = 0;
        for (int i = 0; i < kept; i++) {
            // StrictMath: Math.exp may differ in its last bit between interpreted and compiled code
            weights[i] = StrictMath.exp((logits[off + token(i)] - max) / temperature);
            total += weights[i];
        }
        if (topP < 1) {
            double reach = topP * total;
            double sum = 0;
            int n = 0;
            while (n < kept && sum < reach) {
                sum += weights[n++];
            }
            kept = n;
            total = sum;
        }
        double u = KeyedRandom.unitDouble(KeyedRandom.hash(seed, DRAW_STREAM, sequence, step)) * total;
        for (int i = 0; i < kept; i++) {
            u -= weights[i];
            if (u < 0) {
                return token(i);
            }
        }
        return token(kept - 1);
    }

    /** Fills {@link #order} with the token ids: by likelihood, then id, when {@code byLikelihood}; else by id. */
    private void rank(float[] logits, int off, int vocab, boolean byLikelihood) {
        for (int v = 0; v < vocab; v++) {
            // descending logit, then ascending id: the complement of the logit's order-preserving bits, then the id
            order[v] = byLikelihood ? ((long) ~orderedBits(logits[off + v]) << 32) | v : v;
        }
        if (byLikelihood) {
            Arrays.sort(order, 0, vocab);
        }
    }

    private int token(int i) {
        return (int) order[i];
    }

    /** An int whose signed order is the float order of {@code x} (−0 below +0; no NaN in logits). */
    private static int orderedBits(float x) {
        int bits = Float.floatToRawIntBits(x);
        return bits ^ ((bits >> 31) & 0x7fffffff);
    }

    static int argmax(float[] logits, int off, int vocab) {
        int best = 0;
        float max = logits[off];
        for (int v = 1; v < vocab; v++) {
            if (logits[off + v] > max) {
                max = logits[off + v];
                best = v;
            }
        }
        return best;
    }
}
