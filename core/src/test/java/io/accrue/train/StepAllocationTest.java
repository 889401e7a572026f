package io.accrue.train;

import io.accrue.data.SequenceDataset;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A compiled training step allocates almost nothing on the heap (STYLE 7): the arena, the gradient buffer and the
 * optimizer state are allocated once, and no kernel boxes its vectors. Measured on all threads together
 * ({@code com.sun.management.ThreadMXBean#getTotalThreadAllocatedBytes}) around each step of a tiny GPT (2 threads,
 * 2 micro-batches a step, clipping and AdamW), in a JVM of its own as a user's run has: in the test JVM, after
 * hundreds of other tests, C2 compiled the kernels from their mixed profiles and a step boxed 10 MB of vectors.
 */
class StepAllocationTest {
    /**
     * Bytes a step may allocate: the tape's records and views, a few objects per op (60–480 KB a step, measured
     * 2026-12-07); a kernel that boxed its vectors, or a buffer allocated per step, takes megabytes (the first steps,
     * before the JIT has compiled the kernels: 2–4 GB).
     */
    private static final long BOUND = 1 << 20;
    /** Consecutive steps that must stay under the bound. */
    private static final int QUIET_STEPS = 5;
    /**
     * Until the JIT has compiled the step its Vector API calls run a fallback that allocates every vector; on a
     * loaded machine that takes a while, so the steps go on until {@link #QUIET_STEPS} in a row stay under the
     * bound, for at most this long.
     */
    private static final long LIMIT_NANOS = 240_000_000_000L;

    @Test
    void aCompiledStepAllocatesAlmostNothing() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC",
                "-XX:ObjectAlignmentInBytes=64", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                Steps.class.getName()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(LIMIT_NANOS + 60_000_000_000L, TimeUnit.NANOSECONDS), "the training JVM did not end");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("quiet"), "steps still allocating more than " + BOUND + " bytes each: " + out);
    }

    /** Trains until {@link #QUIET_STEPS} steps in a row allocate less than {@link #BOUND}; prints the last ones. */
    static final class Steps {
        public static void main(String[] args) {
            GptConfig cfg = GptConfig.named("tiny").withContext(32);
            SequenceDataset data = Fixtures.sequences(64, 32, cfg.vocab(), 33, 5);
            TrainConfig config = TrainConfig.builder().seed(1).microBatch(2).accumulationSteps(2).maxSteps(100_000)
                    .threads(2).lr(1e-3).shuffle(false).schedule(ScheduleKind.CONSTANT).clipNorm(1.0).build();
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            List<Long> perStep = new ArrayList<>();
            long start = System.nanoTime();
            int[] quiet = {0};
            try (Trainer<TokenBatch> trainer = new Trainer<>(config, new Gpt(cfg, 1), data)) {
                long[] before = {threads.getTotalThreadAllocatedBytes()};
                trainer.addListener(m -> {
                    long now = threads.getTotalThreadAllocatedBytes();
                    perStep.add(now - before[0]);
                    quiet[0] = now - before[0] < BOUND ? quiet[0] + 1 : 0;
                    if (quiet[0] == QUIET_STEPS || System.nanoTime() - start > LIMIT_NANOS) {
                        trainer.stop();
                    }
                    before[0] = threads.getTotalThreadAllocatedBytes(); // the listener's own allocations left out
                });
                trainer.fit();
            }
            List<Long> last = perStep.subList(Math.max(0, perStep.size() - QUIET_STEPS), perStep.size());
            System.out.println((quiet[0] == QUIET_STEPS ? "quiet" : "allocating") + " after " + perStep.size()
                    + " steps, the last " + last + " bytes each");
        }
    }
}
