package io.accrue.optim;

/**
 * The learning rate as a function of the optimizer step index (0 for the first step).
 *
 * <p>Call order: at the step boundary, {@code optimizer.step((float) schedule.lr(optimizer.steps()))} — the
 * index is the number of steps already taken, so the first step uses {@code lr(0)}.
 */
@FunctionalInterface
public interface LrSchedule {

    /** The learning rate for optimizer step {@code step} ({@code >= 0}). */
    double lr(long step);

    /** The same rate at every step. */
    static LrSchedule constant(double lr) {
        return new Constant(lr);
    }

    /** Linear warmup, then cosine decay to {@code minLr} (nanoGPT's {@code get_lr}); see {@link WarmupDecay}. */
    static LrSchedule warmupCosine(double peakLr, long warmupSteps, long totalSteps, double minLr) {
        return new WarmupDecay(peakLr, warmupSteps, totalSteps, minLr, Decay.COSINE);
    }

    /** Linear warmup, then linear decay to {@code minLr}; see {@link WarmupDecay}. */
    static LrSchedule warmupLinear(double peakLr, long warmupSteps, long totalSteps, double minLr) {
        return new WarmupDecay(peakLr, warmupSteps, totalSteps, minLr, Decay.LINEAR);
    }

    /** {@code lr(step) = lr}. */
    record Constant(double lr) implements LrSchedule {
        public Constant {
            checkPositive("lr", lr);
        }

        @Override
        public double lr(long step) {
            checkStep(step);
            return lr;
        }
    }

    /** How the rate falls from the peak to the minimum after warmup, as a function of progress r in [0, 1]. */
    enum Decay {
        /** {@code minLr + 0.5·(1 + cos(π·r))·(peakLr − minLr)}. */
        COSINE,
        /** {@code peakLr + r·(minLr − peakLr)}. */
        LINEAR
    }

    /**
     * <pre>
     *   step &lt; warmupSteps:            peakLr * (step + 1) / warmupSteps
     *   step &gt; totalSteps:             minLr
     *   otherwise, r = (step - warmupSteps) / (totalSteps - warmupSteps), decayed by {@link Decay}
     * </pre>
     */
    record WarmupDecay(double peakLr, long warmupSteps, long totalSteps, double minLr, Decay decay)
            implements LrSchedule {
        public WarmupDecay {
            checkShape(peakLr, warmupSteps, totalSteps, minLr);
        }

        @Override
        public double lr(long step) {
            checkStep(step);
            if (step < warmupSteps) {
                return peakLr * (step + 1) / warmupSteps;
            }
            if (step > totalSteps) {
                return minLr;
            }
            double r = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
            return switch (decay) {
                case COSINE -> minLr + 0.5 * (1.0 + Math.cos(Math.PI * r)) * (peakLr - minLr);
                case LINEAR -> peakLr + r * (minLr - peakLr);
            };
        }
    }

    private static void checkPositive(String name, double value) {
        if (!(Double.isFinite(value) && value > 0)) {
            throw new IllegalArgumentException(name + " must be finite and > 0, got " + value);
        }
    }

    private static void checkShape(double peakLr, long warmupSteps, long totalSteps, double minLr) {
        checkPositive("peakLr", peakLr);
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        }
        if (totalSteps <= warmupSteps) {
            throw new IllegalArgumentException("totalSteps must be > warmupSteps (" + warmupSteps + "), got "
                    + totalSteps);
        }
        if (!(minLr >= 0 && minLr <= peakLr)) {
            throw new IllegalArgumentException("minLr must be in [0, peakLr (" + peakLr + ")], got " + minLr);
        }
    }

    private static void checkStep(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
    }
}
