package io.accrue.tensor;

/**
 * Counter-based randomness (law 5): every random number is a pure function of a seed and a key, so the same
 * example gets the same dropout mask, initial value or shuffle position whether it sits in a micro-batch of 1
 * or of 64. Built on the SplitMix64 finaliser.
 */
public final class KeyedRandom {
    private KeyedRandom() {
    }

    /** SplitMix64's bijective finaliser. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A 64-bit hash of (seed, a, b, c); each key is folded in with its own mix so permutations differ. */
    public static long hash(long seed, long a, long b, long c) {
        long h = mix(seed + 0x9e3779b97f4a7c15L);
        h = mix(h ^ (a + 0x632be59bd9b4e019L));
        h = mix(h ^ (b + 0x85157af5L));
        return mix(h ^ (c + 0x2545f4914f6cdd1dL));
    }

    /** Uniform float in [0, 1) from the top 24 bits of a hash. */
    public static float unitFloat(long hash) {
        return (hash >>> 40) * 0x1.0p-24f;
    }

    /** Uniform double in [0, 1) from the top 53 bits of a hash. */
    public static double unitDouble(long hash) {
        return (hash >>> 11) * 0x1.0p-53;
    }

    /** Standard normal value for key (seed, a, b, c) by Box–Muller on two keyed uniforms. */
    public static double gaussian(long seed, long a, long b, long c) {
        double u1 = unitDouble(hash(seed, a, b, 2 * c));
        double u2 = unitDouble(hash(seed, a, b, 2 * c + 1));
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
