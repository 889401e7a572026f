package io.accrue.bench;

import io.accrue.data.SequenceDataset;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.tensor.KeyedRandom;
import io.accrue.train.StepMetrics;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * GPT training throughput with the PyTorch reference's JSON fields ({@code ../shared/bench/gpt_bench.py}):
 * K micro-batches of B random full-length sequences per AdamW step, {@code warmup} untimed steps, then the
 * median of {@code steps} timed steps.
 *
 * <p>Usage: {@code GptBench --config small --micro-batch 8 --accum 4 --steps 3 --warmup 1 [--threads 2]}
 */
public final class GptBench {
    private GptBench() {
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> o = BenchSupport.options(args, Map.of("config", "small", "micro-batch", "8", "accum", "1",
                "steps", "3", "warmup", "1", "threads", BenchSupport.allCores()));
        String config = o.get("config");
        int b = Integer.parseInt(o.get("micro-batch"));
        int k = Integer.parseInt(o.get("accum"));
        int steps = Integer.parseInt(o.get("steps"));
        int warmup = Integer.parseInt(o.get("warmup"));
        int threads = Integer.parseInt(o.get("threads"));
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
        Gpt model = new Gpt(cfg, 1337);
        TrainConfig tc = TrainConfig.builder().microBatch(b).accumulationSteps(k).maxSteps(total).threads(threads)
                .lr(6e-4).betas(0.9, 0.95).weightDecay(0.1).shuffle(false).build();
        List<Double> times = new ArrayList<>();
        long[] arena = new long[1];
        try (Trainer<TokenBatch> trainer = new Trainer<>(tc, model, data)) {
            trainer.addListener((StepMetrics m) -> {
                times.add(m.seconds());
                arena[0] = m.arenaFloats();
                System.err.printf(Locale.ROOT, "step %d: %.3f s, loss %.4f%n", m.step(), m.seconds(), m.loss());
            });
            trainer.fit();
        }
        double[] timed = BenchSupport.timed(times, warmup);
        double median = BenchSupport.median(timed);
        long params = model.parameters().size();
        long nonPosition = params - (long) cfg.context() * cfg.width();
        double flopsPerToken = 6.0 * nonPosition + 12.0 * cfg.layers() * cfg.width() * t;
        double tokensPerSec = (double) b * k * t / median;
        double mfu = tokensPerSec * flopsPerToken / (threads * BenchSupport.PEAK_GFLOPS_PER_THREAD * 1e9);
        System.out.printf(Locale.ROOT, "{\"impl\": \"accrue\", \"config\": \"%s\", \"params\": %d, \"B\": %d, \"K\": %d, "
                        + "\"T\": %d, \"threads\": %d, \"sec_per_optimizer_step\": %.4f, \"best_step_sec\": %.4f, "
                        + "\"tokens_per_sec\": %.1f, \"mfu\": %.4f, \"gflops\": %.1f, \"peak_rss_mb\": %.0f, "
                        + "\"arena_high_water_mb\": %.1f, \"step_times\": %s}%n",
                config, params, b, k, t, threads, median, timed[0], tokensPerSec, mfu,
                tokensPerSec * flopsPerToken / 1e9, BenchSupport.peakRssMb(), arena[0] * 4 / 1048576.0, BenchSupport.list(timed));
    }
}
