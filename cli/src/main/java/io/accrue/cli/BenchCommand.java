package io.accrue.cli;

import io.accrue.run.MachineMemory;
import io.accrue.run.ModelShapes;
import io.accrue.models.GptConfig;
import io.accrue.train.MemoryPlan;
import io.accrue.train.TrainConfig;
import io.accrue.train.StepMetrics;
import io.accrue.bench.FmaPeak;
import io.accrue.bench.Throughput;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code accrue bench}: GPT training throughput as ONE JSON line with the PyTorch reference's fields (impl, config,
 * params, B, K, T, threads, concurrent_micro_batches, sec_per_optimizer_step, best_step_sec, tokens_per_sec, mfu, gflops,
 * peak_gflops, peak_rss_mb, arena_high_water_mb, allocated_mb_per_step, step_times); the measurement is
 * {@link Throughput#measure}, MFU against this machine's FMA peak on the run's threads, which {@link FmaPeak} measures
 * first.
 */
@Command(name = "bench", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = {"Measure GPT training throughput on random tokens; print one JSON line with the same fields "
                + "as the PyTorch reference (T is the model's context)."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME|FILE.json", defaultValue = "small",
            description = "adder, tiny, small, gpt2, gpt2-medium, or a JSON model file (its context and vocab are "
                    + "used as given).")
    String model;

    @Option(names = {"-b", "--micro-batch"}, paramLabel = "B", defaultValue = "8",
            description = "Sequences per forward/backward pass.")
    int microBatch;

    @Option(names = {"-k", "--accum"}, paramLabel = "K", defaultValue = "1",
            description = "Micro-batches per optimizer step.")
    int accum;

    @Option(names = "--steps", paramLabel = "S", defaultValue = "3", description = "Timed optimizer steps (the "
            + "median is reported).")
    int steps;

    @Option(names = "--warmup", paramLabel = "W|auto", defaultValue = "auto", description = "Untimed steps first; "
            + "auto: until the JIT has compiled the step (5 steps in a row with under 1%% of their time spent "
            + "compiling; at most 300 steps or 2 minutes). The JSON's warmup_steps says how many ran.")
    String warmupOption;

    @Option(names = "--threads", paramLabel = "T", description = "Compute threads. Default: all cores.")
    Integer threads;

    @Option(names = "--concurrent", paramLabel = "N|auto", defaultValue = "auto", description = "Micro-batches run "
            + "at once, each on one thread (≤ threads): fewer hand-offs between threads for N micro-batches of "
            + "activations; auto: one per thread where that pays (a micro-batch of 32-512 MiB of activations, two "
            + "or more micro-batches per thread) and the plan fits this machine's memory. The JSON's "
            + "concurrent_micro_batches says how many ran.")
    String concurrentOption;

    @Option(names = {"-v", "--verbose"}, description = "Each step's time and loss on stderr.")
    boolean verbose;

    @Option(names = "--checkpointing", description = "Recompute each block's activations during backward.")
    boolean checkpointing;

    @Option(names = "--heap-only", hidden = true, description = "Validate, plan, print the Java heap the plan needs "
            + "in MiB (the launcher's -Xmx) and stop.")
    boolean heapOnly;

    @Override
    public Integer call() {
        positive("--micro-batch", microBatch);
        positive("--accum", accum);
        positive("--steps", steps);
        int warmup = parseWarmup(warmupOption);
        int t = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        positive("--threads", t);
        int concurrent = TrainOptions.concurrentMicroBatches(concurrentOption);
        if (concurrent > t) {
            throw new UsageException("--concurrent must be in [1, threads = " + t + "], got " + concurrent);
        }
        GptConfig cfg = ModelShapes.resolve(model);
        long data = Throughput.dataBytes(cfg, microBatch, accum, steps, warmup);
        MemoryPlan plan;
        try {
            if (concurrent == TrainConfig.AUTO_CONCURRENT) {
                concurrent = Throughput.lanes(cfg, microBatch, accum, t, checkpointing, MachineMemory.bytes() - data);
            }
            plan = Throughput.plan(cfg, microBatch, accum, t, concurrent, checkpointing);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--micro-batch " + microBatch + " cannot run model " + model + ": "
                    + e.getMessage() + "; use a smaller --micro-batch");
        }
        long heapMiB = MemoryPlan.xmxMiB(plan.heapBytes() + data);
        ErrorHandlers.planned(plan.totalBytes() + data, heapMiB << 20);
        MemoryRefusal.refuseBeyond(plan.totalBytes() + data, "bench --model " + model + " -b " + microBatch,
                checkpointing ? "use a smaller --micro-batch" : "use --checkpointing or a smaller --micro-batch");
        if (heapOnly) {
            spec.commandLine().getOut().println(heapMiB);
            spec.commandLine().getOut().flush();
            return 0;
        }
        PrintWriter err = spec.commandLine().getErr();
        double[] peak = FmaPeak.measure(t);
        if (verbose) {
            err.println(FmaPeak.describe(peak, t));
            err.flush();
        }
        Throughput.Result r = Throughput.measure(model, cfg, microBatch, accum, steps, warmup, t, concurrent,
                checkpointing, peak[1],
                verbose ? (StepMetrics m) -> {
                    err.printf(Locale.ROOT, "step %d%s: %.3f s, loss %.4f%n", m.step() + 1,
                            m.step() < warmup ? " (warmup)" : "", m.seconds(), m.loss());
                    err.flush();
                } : null);
        PrintWriter out = spec.commandLine().getOut();
        out.println(r.toJson());
        out.flush();
        return 0;
    }

    /** {@code auto} ({@link Throughput#AUTO_WARMUP}) or a count ≥ 0. */
    static int parseWarmup(String v) {
        if (v.equals("auto")) {
            return Throughput.AUTO_WARMUP;
        }
        try {
            int w = Integer.parseInt(v);
            if (w >= 0) {
                return w;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new UsageException("--warmup must be auto or a number of steps ≥ 0, got " + v);
    }

    private static void positive(String option, int v) {
        if (v <= 0) {
            throw new UsageException(option + " must be a positive integer, got " + v);
        }
    }
}
