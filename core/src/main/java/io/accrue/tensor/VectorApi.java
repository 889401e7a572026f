package io.accrue.tensor;

/**
 * Whether {@code jdk.incubator.vector} can be loaded in this run, decided once for every kernel family.
 *
 * <p>Each family's dispatcher runs its Vector API body when it can and its scalar oracle otherwise (the same bits,
 * ~20× slower). The module must be enabled with {@code --add-modules jdk.incubator.vector} at run time (a jar cannot
 * do it): the launcher passes it. Without it this class warns once on stderr.
 */
public final class VectorApi {
    /** Whether the Vector API bodies run; false: every kernel runs its scalar oracle. */
    public static final boolean AVAILABLE = available();

    private VectorApi() {
    }

    private static boolean available() {
        try {
            Class.forName("jdk.incubator.vector.FloatVector", false, VectorApi.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            System.err.println("accrue: jdk.incubator.vector not enabled (--add-modules jdk.incubator.vector); "
                    + "using scalar kernels, ~20x slower");
            return false;
        }
    }
}
