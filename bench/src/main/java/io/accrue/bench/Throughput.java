package io.accrue.bench;

import io.accrue.data.SequenceDataset;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.tensor.KeyedRandom;
import io.accrue.train.Json;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.MicroBatchLanes;
import io.accrue.train.OptimizerKind;
import io.accrue.train.ScheduleKind;
import io.accrue.train.StepListener;
import io.accrue.train.StepMetrics;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * GPT training throughput with the PyTorch reference's JSON fields ({@code ../shared/bench/gpt_bench.py}): K
 * micro-batches of B random full-length sequences (T = the config's context) per AdamW step, {@code warmup}
 * untimed steps (or, {@link #AUTO_WARMUP}, as many as the JIT needs: {@link JitWarmup}), then the median of
 * {@code steps} timed steps; the arena is presized from the memory planner,
 * whose prediction is reported beside the measured peak. Used by {@code accrue bench} and {@code GptBench}.
 */
public final class Throughput {
    /** {@code warmup} for {@link #measure}: untimed steps until the JIT has compiled the step ({@link JitWarmup}). */
    public static final int AUTO_WARMUP = -1;

    private Throughput() {
    }

    /**
     * One measurement.
     *
     * @param config              the model's name as given
     * @param params              parameter count
     * @param b                   B, micro-batch
     * @param k                   K, micro-batches per optimizer step
     * @param t                   T, tokens per sequence
     * @param threads             compute threads
     * @param concurrent          micro-batches run at once ({@link TrainConfig#concurrentMicroBatches})
     * @param secPerOptimizerStep median wall time of the timed steps
     * @param bestStepSec         fastest timed step
     * @param tokensPerSec        B·K·T / median
     * @param mfu                 model FLOP utilisation: gflops / peakGflops
     * @param gflops              achieved model GFLOP/s
     * @param peakGflops          the machine's FMA peak on {@code threads} threads ({@link FmaPeak}), measured by
     *                            the caller
     * @param peakRssMb           the process's peak resident set (VmHWM) in MiB, NaN where unknown
     * @param arenaHighWaterMb    the activation arena's high-water mark in MiB
     * @param allocatedMbPerStep  heap the JVM's threads allocated in the timed step that allocated least, in MiB: 0
     *                            when the step loop allocates nothing (an allocation of the loop shows in every
     *                            step; the median would also count Vector API boxes of code the JIT had not
     *                            compiled yet, after a short warm-up)
     * @param stepTimes           the timed steps' seconds, sorted
     * @param plan                the memory planner's prediction for this run
     * @param checkpointing       whether activation checkpointing was on
     * @param warmupSteps         untimed steps before the timed ones
     */
    public record Result(String config, long params, int b, int k, int t, int threads, int concurrent,
                         double secPerOptimizerStep,
                         double bestStepSec, double tokensPerSec, double mfu, double gflops, double peakGflops,
                         double peakRssMb,
                         double arenaHighWaterMb, double allocatedMbPerStep, double[] stepTimes, MemoryPlan plan,
                         boolean checkpointing, int warmupSteps) {

        /** One JSON line: impl, config, params, B, K, T, threads, the timings and memory, step_times. */
        public String toJson() {
            return String.format(Locale.ROOT, "{\"impl\": \"accrue\", \"config\": %s, \"params\": %d, \"B\": %d, "
                            + "\"K\": %d, \"T\": %d, \"threads\": %d, \"concurrent_micro_batches\": %d, "
                            + "\"sec_per_optimizer_step\": %.6f, "
                            + "\"best_step_sec\": %.6f, \"tokens_per_sec\": %.1f, \"mfu\": %.4f, \"gflops\": %.1f, "
                            + "\"peak_gflops\": %.1f, "
                            + "\"peak_rss_mb\": %s, \"arena_high_water_mb\": %.1f, \"allocated_mb_per_step\": %.1f, "
                            + "\"predicted_arena_mb\": %.1f, "
                            + "\"predicted_peak_mb\": %.0f, \"checkpointing\": %b, \"warmup_steps\": %d, "
                            + "\"step_times\": %s}",
                    Json.quote(config), params, b, k, t, threads, concurrent, secPerOptimizerStep, bestStepSec, tokensPerSec, mfu,
                    gflops, peakGflops, Double.isFinite(peakRssMb) ? String.format(Locale.ROOT, "%.0f", peakRssMb) : "null",
                    arenaHighWaterMb, allocatedMbPerStep, plan.activationBytes() / 1048576.0,
                    plan.totalBytes() / 1048576.0,
                    checkpointing, warmupSteps, Arrays.toString(stepTimes));
        }
    }

    /**
     * The memory plan of {@link #measure}'s run, before anything is allocated: the planner's prediction for the
     * model, B, K and threads.
     */
    public static MemoryPlan plan(GptConfig cfg, int b, int k, int threads, int concurrent, boolean checkpointing) {
        return MemoryPlanner.plan(cfg, b, k, cfg.context(), OptimizerKind.ADAMW, 0, threads, checkpointing,
                concurrent);
    }

    /**
     * Micro-batches run at once when left to Accrue ({@link MicroBatchLanes#choose}): one per thread when K allows it
     * and {@link #plan}'s predicted peak fits {@code budgetBytes}.
     */
    public static int lanes(GptConfig cfg, int b, int k, int threads, boolean checkpointing, long budgetBytes) {
        return MicroBatchLanes.choose(threads, k, false, plan(cfg, b, k, threads, 1, checkpointing).activationBytes(),
                n -> plan(cfg, b, k, threads, n, checkpointing).totalBytes() <= budgetBytes);
    }

    /**
     * The heap {@link #measure}'s random token sequences take: {@code (warmup + steps)·B·K} of T + 1 tokens
     * ({@code steps·B·K} with {@link #AUTO_WARMUP}).
     */
    public static long dataBytes(GptConfig cfg, int b, int k, int steps, int warmup) {
        long sequences = (long) windows(steps, warmup) * b * k;
        return sequences * (4L * (cfg.context() + 1) + 64) * 2; // the sequences, and the dataset's copy of them
    }

    /**
     * Trains a fresh {@code cfg} GPT (seed 1337, AdamW lr 6e-4, betas 0.9/0.95, weight decay 0.1) for
     * {@code warmup + steps} steps on random tokens and times them; MFU is against {@code peakGflops}, the machine's
     * measured FMA peak on {@code threads} threads ({@link FmaPeak#measure}).
     *
     * @param warmup   untimed steps first, or {@link #AUTO_WARMUP}
     * @param progress told of every step (warmup included), or null
     * @throws IllegalArgumentException if a count is not positive ({@code warmup} may be 0 or {@link #AUTO_WARMUP})
     */
    public static Result measure(String name, GptConfig cfg, int b, int k, int steps, int warmup, int threads,
                                 boolean checkpointing, double peakGflops, StepListener progress) {
        return measure(name, cfg, b, k, steps, warmup, threads, 1, checkpointing, peakGflops, progress);
    }

    /** {@link #measure} with {@code concurrent} micro-batches run at once ({@link TrainConfig#concurrentMicroBatches}). */
    public static Result measure(String name, GptConfig cfg, int b, int k, int steps, int warmup, int threads,
                                 int concurrent, boolean checkpointing, double peakGflops,
                                 StepListener progress) {
        if (b <= 0 || k <= 0 || steps <= 0 || warmup < AUTO_WARMUP || threads <= 0) {
            throw new IllegalArgumentException("throughput needs positive B, K, steps and threads and warmup ≥ 0 "
                    + "or AUTO_WARMUP, "
                    + "got B=" + b + " K=" + k + " steps=" + steps + " warmup=" + warmup + " threads=" + threads);
        }
        int t = cfg.context();
        boolean auto = warmup == AUTO_WARMUP;
        // auto: the steps' windows, repeated epoch after epoch while warming up
        int total = auto ? JitWarmup.MAX_STEPS + steps : warmup + steps;
        List<int[]> seqs = new ArrayList<>();
        for (long s = 0; s < (long) windows(steps, warmup) * b * k; s++) {
            int[] seq = new int[t + 1];
            for (int j = 0; j <= t; j++) {
                seq[j] = (int) Long.remainderUnsigned(KeyedRandom.hash(1337, s, j, 0), cfg.vocab());
            }
            seqs.add(seq);
        }
        SequenceDataset data = new SequenceDataset(seqs, t);
        Gpt model = new Gpt(cfg, 1337).checkpointActivations(checkpointing);
        MemoryPlan plan = plan(cfg, b, k, threads, concurrent, checkpointing);
        TrainConfig tc = TrainConfig.builder().microBatch(b).accumulationSteps(k).maxSteps(total).threads(threads)
                .concurrentMicroBatches(concurrent)
                .lr(6e-4).betas(0.9, 0.95).weightDecay(0.1).shuffle(false)
                .schedule(ScheduleKind.CONSTANT).clipNorm(Double.POSITIVE_INFINITY).build();
        List<Double> times = new ArrayList<>();
        List<Long> allocated = new ArrayList<>();
        long[] arena = new long[1];
        JitWarmup jit = new JitWarmup();
        int[] warm = {auto ? -1 : warmup};
        try (Trainer<TokenBatch> trainer = new Trainer<>(tc, model, data, plan.activationBytes() / Float.BYTES)) {
            trainer.addListener(m -> {
                times.add(m.seconds());
                allocated.add(allocatedBytes());
                arena[0] = m.arenaFloats();
                if (warm[0] < 0 && jit.warm(m.seconds())) {
                    warm[0] = times.size();
                }
                if (auto && warm[0] >= 0 && times.size() == warm[0] + steps) {
                    trainer.stop();
                }
            });
            if (progress != null) {
                trainer.addListener(progress);
            }
            allocated.add(allocatedBytes()); // the first step's start
            trainer.fit();
        }
        warmup = warm[0];
        double[] timed = times.subList(warmup, warmup + steps).stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = timed[timed.length / 2];
        double[] stepAllocations = new double[steps];
        for (int i = 0; i < steps; i++) {
            stepAllocations[i] = (allocated.get(warmup + i + 1) - allocated.get(warmup + i)) / 1048576.0;
        }
        Arrays.sort(stepAllocations);
        long params = model.parameters().size();
        long nonPosition = params - (long) cfg.context() * cfg.width();
        double flopsPerToken = 6.0 * nonPosition + 12.0 * cfg.layers() * cfg.width() * t;
        double tokensPerSec = (double) b * k * t / median;
        double gflops = tokensPerSec * flopsPerToken / 1e9;
        return new Result(name, params, b, k, t, threads, concurrent, median, timed[0], tokensPerSec,
                gflops / peakGflops, gflops, peakGflops, peakRssMb(), arena[0] * (double) Float.BYTES / 1048576.0,
                stepAllocations[0], timed, plan, checkpointing, warmup);
    }

    /** Windows of random sequences {@link #measure} generates. */
    private static int windows(int steps, int warmup) {
        return warmup == AUTO_WARMUP ? steps : warmup + steps;
    }

    /** Bytes the JVM's live threads have allocated on the heap so far. */
    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getTotalThreadAllocatedBytes();
    }

    /** VmHWM of this process from {@code /proc/self/status}, in MiB; NaN where there is none. */
    public static double peakRssMb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
