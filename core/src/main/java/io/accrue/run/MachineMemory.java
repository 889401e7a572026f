package io.accrue.run;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The memory this machine can give a run: its physical memory, or the container's (cgroup) limit when lower. Plans
 * are refused beyond it, and concurrent micro-batches are chosen only when their plan fits it
 * ({@link io.accrue.train.MicroBatchLanes}).
 */
public final class MachineMemory {
    /** Tests: a system property that stands in for the machine's memory, e.g. {@code 2g}. */
    public static final String PROPERTY = "accrue.machineMemory";

    private MachineMemory() {
    }

    /** Bytes of memory this process may use: physical memory, capped by a cgroup (v2 or v1) limit. */
    public static long bytes() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null) {
            return parseSize("-D" + PROPERTY, forced);
        }
        long bytes = Long.MAX_VALUE;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            bytes = os.getTotalMemorySize(); // container-aware in the JDK: the cgroup limit when one is set
        }
        bytes = Math.min(bytes, cgroupLimit(Path.of("/sys/fs/cgroup/memory.max")));
        return Math.min(bytes, cgroupLimit(Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes")));
    }

    private static long cgroupLimit(Path file) {
        try {
            String v = Files.readString(file).strip();
            return v.equals("max") ? Long.MAX_VALUE : Long.parseLong(v);
        } catch (IOException | RuntimeException e) {
            return Long.MAX_VALUE;
        }
    }

    /**
     * Parses {@code 16g}, {@code 800m}, {@code 64k} or a byte count given as {@code option}.
     *
     * @throws IllegalArgumentException naming {@code option} when {@code s} is not a positive size
     */
    public static long parseSize(String option, String s) {
        String v = s.trim().toLowerCase(Locale.ROOT);
        long unit = switch (v.isEmpty() ? ' ' : v.charAt(v.length() - 1)) {
            case 'g' -> 1L << 30;
            case 'm' -> 1L << 20;
            case 'k' -> 1L << 10;
            default -> 1;
        };
        String digits = unit == 1 ? v : v.substring(0, v.length() - 1);
        try {
            double d = Double.parseDouble(digits);
            if (!(d > 0) || Double.isInfinite(d)) {
                throw new NumberFormatException();
            }
            return (long) (d * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + s + "' is not a size; write e.g. 16g, 800m or 1048576");
        }
    }
}
