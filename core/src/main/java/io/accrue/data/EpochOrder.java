package io.accrue.data;

import io.accrue.tensor.KeyedRandom;

/**
 * The order of a dataset's examples in an epoch: identity, or a Fisher–Yates shuffle whose swaps are keyed
 * by (seed, epoch, position) — a pure function, so a resumed run and every micro-batch split agree.
 */
public final class EpochOrder {
    private final int size;
    private final long seed;
    private final boolean shuffle;
    private int cachedEpoch = -1;
    private int[] cached;

    public EpochOrder(int size, long seed, boolean shuffle) {
        if (size <= 0) {
            throw new IllegalArgumentException("dataset is empty");
        }
        this.size = size;
        this.seed = seed;
        this.shuffle = shuffle;
    }

    /** The permutation of {@code [0, size)} for {@code epoch}. */
    public int[] order(int epoch) {
        if (epoch != cachedEpoch) {
            int[] p = new int[size];
            for (int i = 0; i < size; i++) {
                p[i] = i;
            }
            if (shuffle) {
                for (int i = size - 1; i > 0; i--) {
                    int j = (int) Long.remainderUnsigned(KeyedRandom.hash(seed, 0x5eed, epoch, i), i + 1);
                    int tmp = p[i];
                    p[i] = p[j];
                    p[j] = tmp;
                }
            }
            cached = p;
            cachedEpoch = epoch;
        }
        return cached;
    }

    public int size() {
        return size;
    }
}
