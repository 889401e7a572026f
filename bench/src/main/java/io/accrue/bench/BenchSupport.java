package io.accrue.bench;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

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
