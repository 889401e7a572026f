package io.accrue.nn;

import io.accrue.tensor.ParameterStore;

import java.util.Arrays;
import java.util.Locale;

/** The normalization a model can be built with. */
public enum NormKind {
    NONE, LAYER, RMS, GROUP, BATCH;

    /** Parses {@code none|layer|rms|group|batch}, naming the choices when the value is unknown. */
    public static NormKind parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown normalization '" + s + "'; use one of "
                    + Arrays.toString(values()).toLowerCase(Locale.ROOT));
        }
    }

    /** Declares the layer for {@code channels} channels, or returns null for {@link #NONE}. */
    public Normalization create(ParameterStore store, String name, int channels, int groups) {
        return switch (this) {
            case NONE -> null;
            case LAYER -> new LayerNorm(store, name, channels);
            case RMS -> new RmsNorm(store, name, channels);
            case GROUP -> new GroupNorm(store, name, channels, groups);
            case BATCH -> new BatchNorm(store, name, channels);
        };
    }
}
