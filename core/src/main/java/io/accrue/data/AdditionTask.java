package io.accrue.data;

import io.accrue.tensor.KeyedRandom;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Multi-digit addition written as text, generated from a seed: {@code "042+517=9550"} for 42 + 517 = 559.
 *
 * <p>Operands are zero-padded to D digits and the sum is written with D+1 digits, least significant first
 * (reversed), so each answer digit depends only on the digits already seen and the carry — the order a person
 * adds in, and the one a small transformer learns fastest. Every sequence has the same length: a prompt of
 * 2D+2 characters and an answer of D+1. The vocabulary is {@code "0123456789+="} (V = 12).
 *
 * <p>Problem i of a split is a pure function of (seed, split, i). Held-out problems never occur in the
 * training split.
 */
public final class AdditionTask {
    /** The characters of the task; token id = index. */
    public static final CharVocabulary VOCABULARY = new CharVocabulary("0123456789+=");

    private final int digits;
    private final long seed;
    private final long limit;

    /** @param digits D, digits per operand, 1..9 */
    public AdditionTask(int digits, long seed) {
        if (digits < 1 || digits > 9) {
            throw new IllegalArgumentException("digits must be in [1, 9], got " + digits);
        }
        this.digits = digits;
        this.seed = seed;
        this.limit = pow10(digits);
    }

    public int digits() {
        return digits;
    }

    /** Characters before the answer: D + 1 + D + 1. */
    public int promptLength() {
        return 2 * digits + 2;
    }

    /** Answer characters: D + 1. */
    public int answerLength() {
        return digits + 1;
    }

    /** T, the model context a training sequence needs (its length minus one). */
    public int seq() {
        return promptLength() + answerLength() - 1;
    }

    /** {@code "aaa+bbb="} with zero-padded operands. */
    public String prompt(long a, long b) {
        return pad(a, digits) + "+" + pad(b, digits) + "=";
    }

    /** The answer as written: a + b with D+1 digits, reversed. */
    public String answer(long a, long b) {
        return new StringBuilder(pad(a + b, digits + 1)).reverse().toString();
    }

    /** A training set of {@code n} distinct-by-index problems (duplicates possible for tiny D). */
    public SequenceDataset trainingSet(int n) {
        List<SequenceDataset.Example> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long[] p = problem(0, i);
            out.add(example(p[0], p[1]));
        }
        return SequenceDataset.completions(out, seq());
    }

    /**
     * {@code n} held-out problems {a, b}, none of which is among the first {@code trainingSize} training problems.
     *
     * @throws IllegalArgumentException if the problem space is too small to hold them out
     */
    public List<long[]> heldOut(int n, int trainingSize) {
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < trainingSize; i++) {
            long[] p = problem(0, i);
            seen.add(p[0] * limit + p[1]);
        }
        if (seen.size() + (long) n > limit * limit) {
            throw new IllegalArgumentException("only " + limit * limit + " problems with " + digits + " digits; "
                    + trainingSize + " training and " + n + " held-out ones do not fit");
        }
        List<long[]> out = new ArrayList<>(n);
        for (long i = 0; out.size() < n; i++) {
            long[] p = problem(1, i);
            if (seen.add(p[0] * limit + p[1])) {
                out.add(p);
            }
        }
        return out;
    }

    /** Tokens of prompt + answer, trained on the answer only. */
    public SequenceDataset.Example example(long a, long b) {
        return new SequenceDataset.Example(VOCABULARY.encode(prompt(a, b) + answer(a, b)), promptLength());
    }

    private long[] problem(int split, long i) {
        long a = Long.remainderUnsigned(KeyedRandom.hash(seed, 0xadd, split, 2 * i), limit);
        long b = Long.remainderUnsigned(KeyedRandom.hash(seed, 0xadd, split, 2 * i + 1), limit);
        return new long[] {a, b};
    }

    private static String pad(long v, int width) {
        String s = Long.toString(v);
        return "0".repeat(Math.max(0, width - s.length())) + s;
    }

    private static long pow10(int d) {
        long p = 1;
        for (int i = 0; i < d; i++) {
            p *= 10;
        }
        return p;
    }
}
