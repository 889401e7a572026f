package io.accrue.tensor;

import java.lang.management.ManagementFactory;

import com.sun.management.HotSpotDiagnosticMXBean;

/**
 * Where a {@code float[]}'s elements start a 64-byte cache line, when the JVM makes that the same for every array.
 *
 * <p>Why: a 512-bit load that straddles two lines costs two L1 accesses. The GEMM micro-kernel loads two such vectors
 * of its packed B panel per k step, so its panels start on a line boundary where one is known. Java does not expose
 * an array's address, and the collector moves arrays, but with {@code -XX:ObjectAlignmentInBytes=64} (the
 * launcher's setting) every object starts on a line, so element {@code i} is on one iff {@code base + 4·i} is a
 * multiple of 64, where {@code base} is the array header's size. Under any other alignment {@link #FLOAT_OFFSET}
 * is 0: buffers then start anywhere, which is slower and no less exact — where a buffer starts never changes a bit.
 */
public final class CacheLines {
    static final int BYTES = 64;
    /**
     * The first index of a {@code float[]} on a line boundary, or 0 when objects are not line-aligned (or the
     * header's size is not known).
     */
    public static final int FLOAT_OFFSET = floatOffset();

    private CacheLines() {
    }

    private static int floatOffset() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (vm == null || Integer.parseInt(vm.getVMOption("ObjectAlignmentInBytes").getValue()) % BYTES != 0) {
                return 0;
            }
            return offsetFor(flag(vm, "UseCompactObjectHeaders"), flag(vm, "UseCompressedClassPointers"));
        } catch (RuntimeException notHotSpot) { // another VM, or an option it does not have: no alignment known
            return 0;
        }
    }

    private static boolean flag(HotSpotDiagnosticMXBean vm, String name) {
        return Boolean.parseBoolean(vm.getVMOption(name).getValue());
    }

    /**
     * The index of the first line-aligned float of a line-aligned array, from HotSpot's array header: 12 bytes with
     * compact object headers (mark word with the class, length), 16 with compressed class pointers (mark, class,
     * length), 20 without.
     */
    static int offsetFor(boolean compactHeaders, boolean compressedClassPointers) {
        int header = compactHeaders ? 12 : compressedClassPointers ? 16 : 20;
        return (BYTES - header) % BYTES / Float.BYTES;
    }
}
