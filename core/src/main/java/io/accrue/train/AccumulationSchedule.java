package io.accrue.train;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Accumulation steps K that change during training, like Lightning's GradientAccumulationScheduler: from a
 * given optimizer step (or epoch) on, K takes a new value. Before the first entry the config's K applies.
 *
 * @param byEpoch whether the keys are epochs (else optimizer steps)
 * @param changes key → K from that key on
 */
public record AccumulationSchedule(boolean byEpoch, NavigableMap<Long, Integer> changes) {

    public AccumulationSchedule {
        changes = new TreeMap<>(changes);
        for (Map.Entry<Long, Integer> e : changes.entrySet()) {
            if (e.getKey() < 0) {
                throw new IllegalArgumentException("accumulation schedule key must be ≥ 0, got " + e.getKey());
            }
            if (e.getValue() == null || e.getValue() <= 0) {
                throw new IllegalArgumentException("accumulation schedule: K at " + (byEpoch ? "epoch " : "step ")
                        + e.getKey() + " must be positive, got " + e.getValue());
            }
        }
    }

    /** K changes at these optimizer steps. */
    public static AccumulationSchedule byStep(Map<Long, Integer> changes) {
        return new AccumulationSchedule(false, new TreeMap<>(changes));
    }

    /** K changes at these epochs. */
    public static AccumulationSchedule byEpoch(Map<Long, Integer> changes) {
        return new AccumulationSchedule(true, new TreeMap<>(changes));
    }

    /** K for the window of optimizer step {@code step} starting in {@code epoch}. */
    public int k(long step, int epoch, int baseK) {
        Map.Entry<Long, Integer> e = changes.floorEntry(byEpoch ? epoch : step);
        return e == null ? baseK : e.getValue();
    }
}
