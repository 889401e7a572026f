package io.accrue.cli;

import io.accrue.run.MachineMemory;
import io.accrue.run.Run;

/**
 * A plan that needs more than the machine's memory ({@link MachineMemory}) is refused before anything is allocated,
 * rather than ending in an {@link OutOfMemoryError} or the kernel's OOM killer.
 */
final class MemoryRefusal {
    private MemoryRefusal() {
    }

    /**
     * Refuses a run whose predicted peak {@code plannedBytes} exceeds this machine's memory, in one line naming both
     * figures, what was planned ({@code what}) and {@code advice}.
     *
     * @throws UsageException when the plan does not fit
     */
    static void refuseBeyond(long plannedBytes, String what, String advice) {
        long machine = MachineMemory.bytes();
        if (plannedBytes > machine) {
            throw new UsageException(what + " needs " + Run.bytes(plannedBytes) + " by its memory plan, more than "
                    + "this machine's " + Run.bytes(machine) + "; " + advice);
        }
    }
}
