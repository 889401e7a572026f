package io.accrue.train;

import java.util.Locale;

/**
 * A predicted peak memory, broken down by role (law 1 and law 4 make each part a closed formula).
 *
 * @param microBatch      B the plan is for
 * @param accumulation    K that reaches the effective batch
 * @param weightsBytes    the flat parameter buffer, and for small micro-batches with K &gt; 1 the packed copies of
 *                        the weights (W and Wᵀ) held for a window
 * @param gradsBytes      the flat gradient buffer (including tied-use slots)
 * @param optimizerBytes  the optimizer's state buffers
 * @param activationBytes the activation arena of one micro-batch (independent of K), or of each of the
 *                        micro-batches run at once
 * @param runtimeBytes    JVM overhead: young generation, code, metaspace, thread stacks
 * @param concurrent      micro-batches run at once ({@link TrainConfig#concurrentMicroBatches})
 */
public record MemoryPlan(int microBatch, int accumulation, long weightsBytes, long gradsBytes, long optimizerBytes,
                         long activationBytes, long runtimeBytes, int concurrent) {

    public long totalBytes() {
        return weightsBytes + gradsBytes + optimizerBytes + activationBytes + runtimeBytes;
    }

    /** The Java heap this plan needs: everything but the non-heap part of the runtime overhead. */
    public long heapBytes() {
        return totalBytes() - MemoryPlanner.NON_HEAP_BYTES;
    }

    /**
     * The -Xmx, in MiB, for a process whose heap holds {@code heapBytes} of planned buffers, data and activations:
     * those plus headroom for what no plan counts — the JDK's and the command's own objects, the data's index
     * structures — of 32 MiB and 1/32 (a ceiling, not a reservation: resident memory follows what is used). Without
     * it the old generation had no room to spare: a 55 MiB evaluation arena failed by 2 MiB.
     */
    public static long xmxMiB(long heapBytes) {
        return ((heapBytes + heapBytes / 32 + (32L << 20)) >> 20) + 1;
    }

    /** A human-readable breakdown, one role per line. */
    public String breakdown() {
        return String.format(Locale.ROOT, "  weights      %s%n  gradients    %s%n  optimizer    %s%n"
                        + "  activations  %s  (%s of %d)%n  runtime      %s%n  total        %s", mb(weightsBytes),
                mb(gradsBytes), mb(optimizerBytes), mb(activationBytes),
                concurrent == 1 ? "one micro-batch" : concurrent + " micro-batches at once", microBatch,
                mb(runtimeBytes), mb(totalBytes()));
    }

    static String mb(long bytes) {
        return String.format(Locale.ROOT, "%,10.1f MB", bytes / 1048576.0);
    }
}
