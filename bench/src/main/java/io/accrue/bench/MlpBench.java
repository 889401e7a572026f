package io.accrue.bench;

import io.accrue.data.FeatureDataset;
import io.accrue.models.FeatureBatch;
import io.accrue.models.Mlp;
import io.accrue.models.MlpConfig;
import io.accrue.nn.NormKind;
import io.accrue.tensor.KeyedRandom;
import io.accrue.train.StepMetrics;
import io.accrue.train.ScheduleKind;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * MLP 784-1024-1024-10 (ReLU, no norm, no dropout) training throughput with the PyTorch reference's JSON fields
 * ({@code ../shared/bench/mlp_bench.py}): K micro-batches of B random examples per AdamW step (lr 1e-3, weight
 * decay 0.01), {@code warmup} untimed steps, then the median of {@code steps} timed steps. Inputs are a fixed
 * pool of max(4096, 2·B·K) keyed N(0, 1) vectors with random labels, read in order
 * and wrapped, as in the reference.
 *
 * <p>Usage: {@code MlpBench --micro-batch 64 --accum 1 --steps 200 --warmup 20 [--threads 2] [--concurrent auto|N]
 * [--hidden 1024] [--peak-gflops G]}: MFU against G, by default the FMA peak {@link FmaPeak} measures first
 */
public final class MlpBench {
    private static final int INPUTS = 784;
    private static final int CLASSES = 10;

    private MlpBench() {
    }

    public static void main(String[] args) {
        Map<String, String> o = BenchSupport.options(args, Map.of("micro-batch", "64", "accum", "1", "steps", "200",
                "warmup", "20", "threads", BenchSupport.allCores(), "hidden", "1024", "seed", "1337", "peak-gflops", "0",
                "concurrent", "auto"));
        int b = Integer.parseInt(o.get("micro-batch"));
        int k = Integer.parseInt(o.get("accum"));
        int steps = Integer.parseInt(o.get("steps"));
        int warmup = Integer.parseInt(o.get("warmup"));
        int threads = Integer.parseInt(o.get("threads"));
        int hidden = Integer.parseInt(o.get("hidden"));
        long seed = Long.parseLong(o.get("seed"));
        int pool = Math.max(4096, 2 * b * k);
        float[] x = new float[pool * INPUTS];
        int[] y = new int[pool];
        for (int s = 0; s < pool; s++) {
            for (int j = 0; j < INPUTS; j++) {
                x[s * INPUTS + j] = (float) KeyedRandom.gaussian(seed + 1, s, j, 0);
            }
            y[s] = (int) Long.remainderUnsigned(KeyedRandom.hash(seed + 1, s, INPUTS, 1), CLASSES);
        }
        FeatureDataset data = new FeatureDataset(x, y, INPUTS);
        Mlp model = new Mlp(new MlpConfig(INPUTS, List.of(hidden, hidden), CLASSES, NormKind.NONE, 0, 0f, seed));
        int concurrent = BenchSupport.lanes(o.get("concurrent"), model, b, k, threads);
        int total = warmup + steps;
        TrainConfig tc = TrainConfig.builder().microBatch(b).accumulationSteps(k).epochs(0).maxSteps(total)
                .threads(threads).concurrentMicroBatches(concurrent).lr(1e-3).weightDecay(0.01).shuffle(false)
                .dropLast(true).seed(seed)
                .schedule(ScheduleKind.CONSTANT).clipNorm(Double.POSITIVE_INFINITY).build();
        List<Double> times = new ArrayList<>();
        double[] loss = new double[1];
        try (Trainer<FeatureBatch> trainer = new Trainer<>(tc, model, data)) {
            trainer.addListener((StepMetrics m) -> {
                times.add(m.seconds());
                loss[0] = m.loss();
            });
            trainer.fit();
        }
        double[] timed = BenchSupport.timed(times, warmup);
        double median = BenchSupport.median(timed);
        double mean = 0;
        for (double t : timed) {
            mean += t / timed.length;
        }
        long params = model.parameters().size();
        int samples = b * k;
        double achieved = samples * 6.0 * params / median / 1e9;
        double given = Double.parseDouble(o.get("peak-gflops"));
        double peak = given > 0 ? given : FmaPeak.measure(threads)[1];
        System.out.printf(Locale.ROOT, "{\"impl\": \"accrue\", \"config\": \"mlp-784-%d-%d-10\", \"params\": %d, "
                        + "\"B\": %d, \"K\": %d, \"effective_batch\": %d, \"warmup\": %d, \"steps\": %d, "
                        + "\"samples_per_sec\": %.1f, \"sec_per_optimizer_step\": %.6f, \"sec_per_step_min\": %.6f, "
                        + "\"sec_per_step_mean\": %.6f, \"ms_per_sample\": %.4f, \"peak_rss_mb\": %.1f, "
                        + "\"achieved_gflops\": %.2f, \"peak_gflops\": %.1f, \"mfu\": %.4f, \"final_loss\": %.4f, "
                        + "\"threads\": %d, \"concurrent_micro_batches\": %d}%n",
                hidden, hidden, params, b, k, samples, warmup, steps, samples / median, median, timed[0], mean,
                1000 * median / samples, Throughput.peakRssMb(), achieved, peak, achieved / peak, loss[0],
                threads, concurrent);
    }
}
