package io.accrue.train;

import java.util.Locale;

/** Learning-rate schedules: constant, linear warmup then cosine decay, linear warmup then linear decay. */
public enum ScheduleKind {
    CONSTANT, COSINE, LINEAR;

    public static ScheduleKind parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "constant" -> CONSTANT;
            case "cosine" -> COSINE;
            case "linear" -> LINEAR;
            default -> throw new IllegalArgumentException("unknown schedule '" + s + "'; use constant, cosine or linear");
        };
    }
}
