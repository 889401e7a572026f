package io.accrue.cli;

import io.accrue.run.Run;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The memory this machine can give a run: its physical memory, or the container's (cgroup) limit when lower. A plan
 * that needs more is refused before anything is allocated ({@link #refuseBeyond}), rather than ending in an
 * {@link OutOfMemoryError} or the kernel's OOM killer.
 */
final class MachineMemory {
    /** Tests: a system property that stands in for the machine's memory, e.g. {@code 2g}. */
    static final String PROPERTY = "accrue.machineMemory";

    private MachineMemory() {
    }

    /** Bytes of memory this process may use: physical memory, capped by a cgroup (v2 or v1) limit. */
    static long bytes() {
        String forced = System.getProperty(PROPERTY);
        if (forced != null) {
            return PlanCommand.parseBytes(forced);
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
     * Refuses a run whose predicted peak {@code plannedBytes} exceeds this machine's memory, in one line naming both
     * figures, what was planned ({@code what}) and {@code advice}.
     *
     * @throws UsageException when the plan does not fit
     */
    static void refuseBeyond(long plannedBytes, String what, String advice) {
        long machine = bytes();
        if (plannedBytes > machine) {
            throw new UsageException(what + " needs " + Run.bytes(plannedBytes) + " by its memory plan, more than "
                    + "this machine's " + Run.bytes(machine) + "; " + advice);
        }
    }
}
