package io.accrue.optim;

import java.util.Objects;

/** Detects NaN and infinite values; the step boundary skips or stops a step whose gradients contain one. */
public final class NonFinite {

    private NonFinite() {
    }

    /** Whether any of {@code values[from, to)} is NaN or infinite. */
    public static boolean check(float[] values, int from, int to) {
        return first(values, from, to) >= 0;
    }

    /** The index of the first NaN or infinite value in {@code values[from, to)}, or -1 if all are finite. */
    public static int first(float[] values, int from, int to) {
        Objects.checkFromToIndex(from, to, Objects.requireNonNull(values, "values").length);
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(values[i])) {
                return i;
            }
        }
        return -1;
    }
}
