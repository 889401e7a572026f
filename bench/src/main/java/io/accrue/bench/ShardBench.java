package io.accrue.bench;

import io.accrue.data.Dataset;
import io.accrue.data.SequenceDataset;
import io.accrue.data.TokenWindows;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.TokenBatch;
import io.accrue.run.PreparedData;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.OptimizerKind;
import io.accrue.train.ScheduleKind;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Training throughput on memory-mapped token shards against the same windows held in the heap: a GPT trained on
 * {@code train.bin} of a prepared directory through {@link TokenWindows} (ids read from the mapping when a micro-batch
 * is built) and through a {@link SequenceDataset} of the same windows copied into {@code int[]}s, alternated
 * {@code rounds} times (mapped first in odd rounds, in-memory first in even ones). Prints one JSON line per run:
 * {@code data} (mapped or heap), {@code tokens_per_sec} (B·K·T over the median timed step),
 * {@code batch_building_share} (the share of the steps' time spent building micro-batches from the data),
 * {@code last_loss} (the same for both: the same windows in the same order), {@code step_times}.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp bench/target/classes:core/target/classes io.accrue.bench.ShardBench \
 *     DIR [model=tiny] [B=8] [K=4] [steps=40] [warmup=30] [rounds=3] [windows=20000]
 * </pre>
 */
public final class ShardBench {
    private ShardBench() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String name = args.length > 1 ? args[1] : "tiny";
        int b = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int k = args.length > 3 ? Integer.parseInt(args[3]) : 4;
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 40;
        int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 30;
        int rounds = args.length > 6 ? Integer.parseInt(args[6]) : 3;
        int windows = args.length > 7 ? Integer.parseInt(args[7]) : 20_000;
        PreparedData p = PreparedData.open(dir, null, false);
        GptConfig named = GptConfig.named(name);
        GptConfig cfg = named.withVocab(p.vocab());
        int t = cfg.context();
        TokenWindows all = new TokenWindows(p.train(), t, p.vocab());
        int n = Math.min(windows, all.fullWindows());
        TokenWindows mapped = new TokenWindows(p.train().prefix((long) n * t + 1), t, p.vocab());
        List<int[]> seqs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            TokenBatch one = mapped.batch(new int[] {i});
            int[] s = Arrays.copyOf(one.inputs(), t + 1);
            s[t] = one.targets()[t - 1];
            seqs.add(s);
        }
        SequenceDataset heap = new SequenceDataset(seqs, t);
        List<Double> mappedRates = new ArrayList<>();
        List<Double> heapRates = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            boolean mappedFirst = r % 2 == 0;
            for (int i = 0; i < 2; i++) {
                boolean useMapped = (i == 0) == mappedFirst;
                double rate = run(useMapped ? mapped : heap, useMapped ? "mapped" : "heap", name, cfg, b, k, steps,
                        warmup);
                (useMapped ? mappedRates : heapRates).add(rate);
            }
        }
        System.out.printf(Locale.ROOT, "{\"summary\": true, \"mapped_median_tokens_per_sec\": %.1f, "
                + "\"heap_median_tokens_per_sec\": %.1f, \"ratio\": %.3f}%n", median(mappedRates), median(heapRates),
                median(mappedRates) / median(heapRates));
    }

    private static double run(Dataset<TokenBatch> data, String label, String name, GptConfig cfg, int b, int k,
                              int steps, int warmup) {
        int total = warmup + steps;
        Gpt model = new Gpt(cfg, 1337);
        int threads = Runtime.getRuntime().availableProcessors();
        MemoryPlan plan = MemoryPlanner.plan(cfg, b, k, cfg.context(), OptimizerKind.ADAMW, 0, threads, false, 1);
        TrainConfig tc = TrainConfig.builder().microBatch(b).accumulationSteps(k).maxSteps(total).threads(threads)
                .lr(6e-4).schedule(ScheduleKind.CONSTANT).build();
        List<Double> times = new ArrayList<>();
        List<Double> losses = new ArrayList<>();
        long[] batchNanos = {0};
        Dataset<TokenBatch> timedData = new Dataset<>() {
            @Override
            public int size() {
                return data.size();
            }

            @Override
            public TokenBatch batch(int[] indices) {
                long t0 = System.nanoTime();
                TokenBatch batch = data.batch(indices);
                batchNanos[0] += System.nanoTime() - t0;
                return batch;
            }
        };
        try (Trainer<TokenBatch> trainer = new Trainer<>(tc, model, timedData,
                plan.activationBytes() / Float.BYTES)) {
            trainer.addListener(m -> {
                times.add(m.seconds());
                losses.add(m.loss());
            });
            trainer.fit();
        }
        double[] timed = times.subList(warmup, total).stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double rate = (double) b * k * cfg.context() / timed[timed.length / 2];
        double stepSeconds = times.stream().mapToDouble(Double::doubleValue).sum();
        System.out.printf(Locale.ROOT, "{\"data\": \"%s\", \"config\": \"%s\", \"B\": %d, \"K\": %d, \"T\": %d, "
                        + "\"tokens_per_sec\": %.1f, \"batch_building_share\": %.5f, \"last_loss\": %s, "
                        + "\"step_times\": %s}%n", label, name, b, k, cfg.context(), rate,
                batchNanos[0] / 1e9 / stepSeconds, losses.getLast(), Arrays.toString(timed));
        return rate;
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a[a.length / 2];
    }
}
