package io.accrue.optim;

import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The parameter layout {@code [0, store.size())} cut into maximal runs of equal weight-decay flag, so a
 * fused optimizer pass can apply decay per run instead of per element.
 */
final class DecayRuns {

    /** Visits the part of one run that lies inside a requested range. */
    @FunctionalInterface
    interface Body {
        void run(int from, int to, boolean decay);
    }

    private final int[] starts; // run r covers [starts[r], starts[r + 1])
    private final boolean[] decay;

    DecayRuns(ParameterStore store) {
        Objects.requireNonNull(store, "store");
        List<Integer> s = new ArrayList<>();
        List<Boolean> d = new ArrayList<>();
        int expected = 0;
        for (Parameter p : store.parameters()) {
            if (p.offset() != expected) {
                throw new IllegalStateException("parameter '" + p.name() + "' starts at " + p.offset()
                        + ", expected " + expected + ": the layout is not contiguous");
            }
            if (p.size() > 0 && (d.isEmpty() || d.getLast() != p.weightDecay())) {
                s.add(p.offset());
                d.add(p.weightDecay());
            }
            expected += p.size();
        }
        if (expected != store.size()) {
            throw new IllegalStateException("parameters cover " + expected + " elements, store.size() is "
                    + store.size());
        }
        starts = new int[s.size() + 1];
        decay = new boolean[d.size()];
        for (int r = 0; r < decay.length; r++) {
            starts[r] = s.get(r);
            decay[r] = d.get(r);
        }
        starts[decay.length] = expected;
    }

    /** Calls {@code body} for each run's intersection with {@code [from, to)}, in layout order. */
    void forEach(int from, int to, Body body) {
        if (from >= to) {
            return;
        }
        int r = Arrays.binarySearch(starts, from);
        if (r < 0) {
            r = -r - 2; // the run whose start precedes 'from'
        }
        for (; r < decay.length && starts[r] < to; r++) {
            int lo = Math.max(from, starts[r]);
            int hi = Math.min(to, starts[r + 1]);
            if (lo < hi) {
                body.run(lo, hi, decay[r]);
            }
        }
    }
}
