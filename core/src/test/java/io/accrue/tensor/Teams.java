package io.accrue.tensor;

/** Thread teams for the kernel families' tests in sub-packages, through {@link Parallel}'s package-private parts. */
public final class Teams {
    private Teams() {
    }

    /** A team whose every loop starts from the given part speeds: uneven cuts on a loop's first call. */
    public static Parallel withSpeeds(double... speeds) {
        return new Parallel(speeds.length, speeds);
    }
}
