package io.accrue.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliPlanTest {

    @Test
    void plansTheLargestMicroBatchAndShowsTheBreakdown() {
        CliRun r = CliRun.of("plan", "--model", "gpt2-medium", "--memory", "16g", "--effective-batch", "32",
                "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("micro-batch 4 × accumulation 8 = effective batch 32"), r.out());
        for (String role : new String[] {"weights", "gradients", "optimizer", "activations", "runtime", "total"}) {
            assertTrue(r.out().contains(role), role + " missing in " + r.out());
        }
        // 8,076 MB: attention keeps no (T, T) matrix, so micro-batch 1 fits 8 GiB without checkpointing
        CliRun tight = CliRun.of("plan", "--model", "gpt2-medium", "--memory", "8g", "--effective-batch", "32",
                "--threads", "2");
        assertEquals(0, tight.code(), tight.err());
        assertTrue(tight.out().contains("micro-batch 1 × accumulation 32"), tight.out());
        CliRun ckpt = CliRun.of("plan", "--model", "gpt2-medium", "--memory", "8g", "--checkpointing",
                "--threads", "2");
        assertEquals(0, ckpt.code(), ckpt.err());
        assertTrue(ckpt.out().contains("micro-batch 2 × accumulation 16"), ckpt.out());
    }

    @Test
    void plansTheMicroBatchesTrainRunsAtOnceWhereTheyPayAndFit() {
        // N = 22 = 2 × 11: B = 2 fits 800 MB and B = 11 does not, K = 11 is enough rounds for 2 lanes
        CliRun two = CliRun.of("plan", "--model", "small", "--memory", "800m", "--effective-batch", "22",
                "--threads", "2");
        assertEquals(0, two.code(), two.err());
        assertTrue(two.out().contains("micro-batch 2 × accumulation 11 = effective batch 22; 2 micro-batches at once"),
                two.out());
        assertTrue(two.out().contains("(2 micro-batches at once of 2)"), "both arenas planned: " + two.out());
        CliRun one = CliRun.of("plan", "--model", "small", "--memory", "800m", "--effective-batch", "22",
                "--threads", "1");
        assertTrue(one.out().contains("effective batch 22\n"), "one thread, one at a time: " + one.out());
    }

    @Test
    void impossibleBudgetIsRefusedWithTheBreakdownAndExitCode2() {
        CliRun r = CliRun.of("plan", "--model", "gpt2-medium", "--memory", "6g");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("cannot hold even micro-batch 1") && r.err().contains("activation checkpointing"),
                r.err());
    }

    @Test
    void malformedSizeNamesTheValue() {
        CliRun r = CliRun.of("plan", "--memory", "lots");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'lots'") && r.err().contains("16g"), r.err());
    }
}
