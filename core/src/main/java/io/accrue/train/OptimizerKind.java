package io.accrue.train;

import java.util.Locale;

/** The optimizers a {@link TrainConfig} can name. */
public enum OptimizerKind {
    ADAMW, SGD;

    public static OptimizerKind parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "adamw" -> ADAMW;
            case "sgd" -> SGD;
            default -> throw new IllegalArgumentException("unknown optimizer '" + s + "'; use adamw or sgd");
        };
    }
}
