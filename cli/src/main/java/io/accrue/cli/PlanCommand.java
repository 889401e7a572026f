package io.accrue.cli;

import io.accrue.run.ModelShapes;
import io.accrue.models.GptConfig;
import io.accrue.run.MachineMemory;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.MicroBatchLanes;
import io.accrue.train.OptimizerKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code accrue plan}: the largest micro-batch that fits a memory budget, the K that reaches the effective
 * batch, and the predicted peak broken down — computed before anything is allocated.
 */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Pick micro-batch B and accumulation K for a memory budget and show the predicted peak.")
public final class PlanCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME|FILE.json", defaultValue = "gpt2-medium",
            description = "Model: adder, tiny, small, gpt2, gpt2-medium or a JSON model file. Default: "
                    + "${DEFAULT-VALUE}")
    String model;

    @Option(names = "--memory", paramLabel = "SIZE", required = true,
            description = "Memory budget, e.g. 16g, 800m.")
    String memory;

    @Option(names = {"-n", "--effective-batch"}, paramLabel = "N", defaultValue = "32",
            description = "Sequences per optimizer step. Default: ${DEFAULT-VALUE}")
    int effectiveBatch;

    @Option(names = "--seq", paramLabel = "T", description = "Sequence length. Default: the model's context.")
    Integer seq;

    @Option(names = "--optimizer", paramLabel = "KIND", defaultValue = "adamw",
            description = "adamw or sgd (with momentum). Default: ${DEFAULT-VALUE}")
    String optimizer;

    @Option(names = "--threads", paramLabel = "N", description = "Compute threads. Default: all cores.")
    Integer threads;

    @Option(names = "--checkpointing", description = "Plan with activation checkpointing (recompute each block).")
    boolean checkpointing;

    @Option(names = "--heap-only", hidden = true, description = "Print only the Java heap the plan needs, in MiB "
            + "(the launcher's -Xmx).")
    boolean heapOnly;

    @Override
    public Integer call() {
        GptConfig cfg = ModelShapes.resolve(model);
        int t = seq == null ? cfg.context() : seq;
        if (t <= 0 || t > cfg.context()) {
            throw new UsageException("--seq: " + t + " is outside 1.." + cfg.context() + " for model " + model);
        }
        OptimizerKind opt = OptimizerKind.parse(optimizer);
        int th = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        long budget = parseBytes(memory);
        MemoryPlan one = MemoryPlanner.fit(cfg, budget, effectiveBatch, t, opt, 0.9, th, checkpointing);
        // what `accrue train --memory` runs by default (--concurrent auto): lanes where they pay and fit the budget
        int lanes = MicroBatchLanes.choose(th, one.accumulation(), false, one.activationBytes(),
                n -> plan(cfg, one, t, opt, th, n).totalBytes() <= budget);
        MemoryPlan p = lanes > 1 ? plan(cfg, one, t, opt, th, lanes) : one;
        PrintWriter out = spec.commandLine().getOut();
        if (heapOnly) {
            out.println(MemoryPlan.xmxMiB(p.heapBytes()));
            out.flush();
            return 0;
        }
        out.printf(Locale.ROOT, "model %s (%,d parameters), sequence %d, %s%s, budget %s%n", model,
                cfg.parameterCount(), t, opt.name().toLowerCase(Locale.ROOT),
                checkpointing ? ", activation checkpointing" : "", memory);
        out.printf(Locale.ROOT, "micro-batch %d × accumulation %d = effective batch %d%s%n", p.microBatch(),
                p.accumulation(), effectiveBatch, lanes > 1 ? "; " + lanes + " micro-batches at once" : "");
        out.println("predicted peak:");
        out.println(p.breakdown());
        out.printf(Locale.ROOT, "java heap: -Xmx%dm%n", MemoryPlan.xmxMiB(p.heapBytes()));
        return 0;
    }

    /** {@code fitted}'s B and K with {@code lanes} micro-batches at once. */
    private MemoryPlan plan(GptConfig cfg, MemoryPlan fitted, int t, OptimizerKind opt, int threads, int lanes) {
        return MemoryPlanner.plan(cfg, fitted.microBatch(), fitted.accumulation(), t, opt, 0.9, threads,
                checkpointing, lanes);
    }

    /** Parses {@code 16g}, {@code 800m}, {@code 64k} or a byte count given to {@code --memory}. */
    static long parseBytes(String s) {
        return MachineMemory.parseSize("--memory", s);
    }
}
