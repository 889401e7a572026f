package io.accrue.bench;

import io.accrue.models.Model;
import io.accrue.run.MachineMemory;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.MicroBatchLanes;
import io.accrue.train.OptimizerKind;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * Helpers of the end-to-end benchmarks beyond {@link io.accrue.train.Throughput} (which holds the GPT measurement,
 * the MFU peak and the peak RSS): {@code --name value} options, the median of the timed steps, and seeded
 * random inputs (shared with the JMH kernel benchmarks).
 */
final class BenchSupport {
    private BenchSupport() {
    }

    /**
     * {@code --name value} pairs, each name one of {@code defaults}' keys (an unknown name or a missing value
     * throws naming it); returns the defaults overridden by the arguments.
     */
    static Map<String, String> options(String[] args, Map<String, String> defaults) {
        Map<String, String> out = new HashMap<>(defaults);
        for (int i = 0; i < args.length; i += 2) {
            String name = args[i];
            if (!name.startsWith("--") || !defaults.containsKey(name.substring(2))) {
                throw new IllegalArgumentException("unknown option " + name + " (known: --"
                        + String.join(", --", defaults.keySet().stream().sorted().toList()) + ")");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + name + " needs a value");
            }
            out.put(name.substring(2), args[i + 1]);
        }
        return out;
    }

    /**
     * {@code --concurrent}: a count, or {@code auto} for what {@code accrue train} would run (AdamW; one lane per
     * thread when K allows it and the plan fits this machine's memory, {@link MicroBatchLanes}).
     */
    static int lanes(String option, Model<?> model, int b, int k, int threads) {
        if (!option.equals("auto")) {
            return Integer.parseInt(option);
        }
        long machine = MachineMemory.bytes();
        IntFunction<MemoryPlan> plan = n -> MemoryPlanner.plan(model, b, k, OptimizerKind.ADAMW, 0, threads, n);
        return MicroBatchLanes.choose(threads, k, model.mixesExamples(), plan.apply(1).activationBytes(),
                n -> plan.apply(n).totalBytes() <= machine);
    }

    /** Default thread count: one per available processor. */
    static String allCores() {
        return Integer.toString(Runtime.getRuntime().availableProcessors());
    }

    /** The timed steps (after {@code warmup} untimed ones), ascending. */
    static double[] timed(List<Double> times, int warmup) {
        return times.subList(warmup, times.size()).stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    /** The median of ascending values (the upper one of an even count, as the steps are few). */
    static double median(double[] sorted) {
        return sorted[sorted.length / 2];
    }

    static String list(double[] values) {
        return Arrays.toString(values);
    }

    /** {@code n} floats uniform in [lo, hi) drawn from {@code random}. */
    static float[] uniform(SplittableRandom random, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextDouble(lo, hi);
        }
        return a;
    }
}
