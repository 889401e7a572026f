package io.accrue.optim;

import java.util.List;

/** Argument checks shared by this package; every message names the argument and its value. */
final class Checks {

    private Checks() {
    }

    static float learningRate(float lr) {
        if (!(Float.isFinite(lr) && lr > 0f)) {
            throw new IllegalArgumentException("lr must be finite and > 0, got " + lr);
        }
        return lr;
    }

    /** {@code value} in {@code [0, 1)}. */
    static float unitInterval(String name, float value) {
        if (!(value >= 0f && value < 1f)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + value);
        }
        return value;
    }

    static float positive(String name, float value) {
        if (!(Float.isFinite(value) && value > 0f)) {
            throw new IllegalArgumentException(name + " must be finite and > 0, got " + value);
        }
        return value;
    }

    static float nonNegative(String name, float value) {
        if (!(Float.isFinite(value) && value >= 0f)) {
            throw new IllegalArgumentException(name + " must be finite and >= 0, got " + value);
        }
        return value;
    }

    /** Copies {@code state} into {@code buffers}, validating the count and each length. */
    static void restore(String optimizer, List<float[]> state, long steps, float[]... buffers) {
        if (state == null) {
            throw new IllegalArgumentException(optimizer + " state is null");
        }
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be >= 0, got " + steps);
        }
        if (state.size() != buffers.length) {
            throw new IllegalArgumentException(optimizer + " expects " + buffers.length
                    + " state buffers, got " + state.size());
        }
        for (int i = 0; i < buffers.length; i++) {
            float[] s = state.get(i);
            if (s == null) {
                throw new IllegalArgumentException(optimizer + " state[" + i + "] is null");
            }
            if (s.length != buffers[i].length) {
                throw new IllegalArgumentException(optimizer + " state[" + i + "] has length " + s.length
                        + ", expected " + buffers[i].length + " (the parameter count)");
            }
        }
        for (int i = 0; i < buffers.length; i++) {
            System.arraycopy(state.get(i), 0, buffers[i], 0, buffers[i].length);
        }
    }
}
