package io.accrue.bench;

import io.accrue.data.SequenceDataset;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.tensor.KeyedRandom;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.OptimizerKind;
import io.accrue.train.StepMetrics;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * GPT training throughput with the PyTorch reference's JSON fields ({@code ../shared/bench/gpt_bench.py}):
 * K micro-batches of B random full-length sequences per AdamW step, {@code warmup} untimed steps, then the
 * median of {@code steps} timed steps.
 *
 * <p>Usage: {@code GptBench --config small --micro-batch 8 --accum 4 --steps 3 --warmup 1 [--threads 2]
 * [--checkpointing]}; also prints the memory planner's prediction beside the measured peak.
 */
public final class GptBench {
    /** fp32 peak per thread used for MFU, as in the reference: 32 FLOP/cycle × 3.3 GHz. */
    static final double PEAK_GFLOPS_PER_THREAD = 105.6;

    private GptBench() {
    }

    public static void main(String[] args) throws IOException {
        String config = "small";
        int b = 8;
        int k = 1;
        int steps = 3;
        int warmup = 1;
        int threads = Runtime.getRuntime().availableProcessors();
        boolean checkpointing = false;
        for (int i = 0; i < args.length; i += 2) {
            if (args[i].equals("--checkpointing")) {
                checkpointing = true;
                i--;
                continue;
            }
            String v = args[i + 1];
            switch (args[i]) {
                case "--config" -> config = v;
                case "--micro-batch" -> b = Integer.parseInt(v);
                case "--accum" -> k = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--threads" -> threads = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        GptConfig cfg = GptConfig.named(config);
        int t = cfg.context();
        int total = warmup + steps;
        List<int[]> seqs = new ArrayList<>();
        for (int s = 0; s < total * b * k; s++) {
            int[] seq = new int[t + 1];
            for (int j = 0; j <= t; j++) {
                seq[j] = (int) Long.remainderUnsigned(KeyedRandom.hash(1337, s, j, 0), cfg.vocab());
            }
            seqs.add(seq);
        }
        SequenceDataset data = new SequenceDataset(seqs, t);
        Gpt model = new Gpt(cfg, 1337).checkpointActivations(checkpointing);
        MemoryPlan plan = MemoryPlanner.plan(cfg, b, k, t, OptimizerKind.ADAMW, 0, threads, checkpointing);
        TrainConfig tc = TrainConfig.builder().microBatch(b).accumulationSteps(k).maxSteps(total).threads(threads)
                .lr(6e-4).betas(0.9, 0.95).weightDecay(0.1).shuffle(false).build();
        List<Double> times = new ArrayList<>();
        long[] arena = new long[1];
        try (Trainer<TokenBatch> trainer = new Trainer<>(tc, model, data, plan.activationBytes() / 4)) {
            trainer.addListener((StepMetrics m) -> {
                times.add(m.seconds());
                arena[0] = m.arenaFloats();
                System.err.printf(Locale.ROOT, "step %d: %.3f s, loss %.4f%n", m.step(), m.seconds(), m.loss());
            });
            trainer.fit();
        }
        double[] timed = times.subList(warmup, total).stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double median = timed[timed.length / 2];
        long params = model.parameters().size();
        long nonPosition = params - (long) cfg.context() * cfg.width();
        double flopsPerToken = 6.0 * nonPosition + 12.0 * cfg.layers() * cfg.width() * t;
        double tokensPerSec = (double) b * k * t / median;
        double mfu = tokensPerSec * flopsPerToken / (threads * PEAK_GFLOPS_PER_THREAD * 1e9);
        System.out.printf(Locale.ROOT, "{\"impl\": \"accrue\", \"config\": \"%s\", \"params\": %d, \"B\": %d, \"K\": %d, "
                        + "\"T\": %d, \"threads\": %d, \"sec_per_optimizer_step\": %.4f, \"best_step_sec\": %.4f, "
                        + "\"tokens_per_sec\": %.1f, \"mfu\": %.4f, \"gflops\": %.1f, \"peak_rss_mb\": %.0f, "
                        + "\"arena_high_water_mb\": %.1f, \"predicted_arena_mb\": %.1f, \"predicted_peak_mb\": %.0f, "
                        + "\"checkpointing\": %b, \"step_times\": %s}%n",
                config, params, b, k, t, threads, median, timed[0], tokensPerSec, mfu,
                tokensPerSec * flopsPerToken / 1e9, peakRssMb(), arena[0] * 4 / 1048576.0,
                plan.activationBytes() / 1048576.0, plan.totalBytes() / 1048576.0, checkpointing, Arrays.toString(timed));
    }

    /** VmHWM of this process from /proc, in MiB. */
    static double peakRssMb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }
}
