package io.accrue.bench;

import io.accrue.data.FashionMnist;
import io.accrue.data.FeatureDataset;
import io.accrue.models.Cnn;
import io.accrue.models.CnnConfig;
import io.accrue.models.FeatureBatch;
import io.accrue.nn.NormKind;
import io.accrue.tensor.Compute;
import io.accrue.run.Accuracy;
import io.accrue.train.StepMetrics;
import io.accrue.train.ScheduleKind;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Trains a Fashion-MNIST CNN ({@link CnnConfig#fashionMnist(CnnConfig.Layout, NormKind, long)}: {@code --model cnn}
 * or {@code resnet}) with AdamW and reports test accuracy after each
 * epoch (or at the end of a step budget), training images/s (evaluation excluded) and, when asked, whether two
 * splits of the same effective batch give bit-identical weights. The PyTorch counterpart is {@code cnn_bench.py}.
 *
 * <p>Usage: {@code FashionMnistBench [--model cnn] --norm group --micro-batch 4 --accum 16 [--epochs 1] [--max-steps 0]
 * [--threads 2] [--concurrent auto] [--lr 1e-3] [--seed 1337] [--train-limit 0] [--test-limit 0] [--data DIR]
 * [--identical-with 64,1 --identical-steps 5]}
 */
public final class FashionMnistBench {
    private FashionMnistBench() {
    }

    public static void main(String[] args) throws IOException {
        CnnConfig.Layout layout = CnnConfig.Layout.PLAIN;
        NormKind norm = NormKind.GROUP;
        int b = 64;
        int k = 1;
        int epochs = 1;
        long maxSteps = 0;
        int threads = Runtime.getRuntime().availableProcessors();
        String concurrent = "auto";
        double lr = 1e-3;
        long seed = 1337;
        int trainLimit = 0;
        int testLimit = 0;
        Path dir = FashionMnist.defaultDirectory();
        int[] other = null;
        int identicalSteps = 5;
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            String v = args[i + 1];
            switch (args[i]) {
                case "--model" -> layout = CnnConfig.Layout.of(v);
                case "--norm" -> norm = NormKind.parse(v);
                case "--micro-batch" -> b = Integer.parseInt(v);
                case "--accum" -> k = Integer.parseInt(v);
                case "--epochs" -> epochs = Integer.parseInt(v);
                case "--max-steps" -> maxSteps = Long.parseLong(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--concurrent" -> concurrent = v;
                case "--lr" -> lr = Double.parseDouble(v);
                case "--seed" -> seed = Long.parseLong(v);
                case "--train-limit" -> trainLimit = Integer.parseInt(v);
                case "--test-limit" -> testLimit = Integer.parseInt(v);
                case "--data" -> dir = Path.of(v);
                case "--identical-with" -> other = Arrays.stream(v.split(",")).mapToInt(Integer::parseInt).toArray();
                case "--identical-steps" -> identicalSteps = Integer.parseInt(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        long t0 = System.nanoTime();
        FashionMnist.Splits data = FashionMnist.load(dir);
        FeatureDataset train = trainLimit > 0 ? head(data.train(), trainLimit) : data.train();
        FeatureDataset test = testLimit > 0 ? head(data.test(), testLimit) : data.test();
        System.err.printf(Locale.ROOT, "loaded %d train / %d test images from %s in %.1f s%n", train.size(),
                test.size(), dir, (System.nanoTime() - t0) / 1e9);

        if (other != null) {
            boolean same = identical(layout, norm, seed, lr, threads, train, b, k, other[0], other[1], identicalSteps);
            System.out.printf(Locale.ROOT, "identical weights after %d steps, B=%d,K=%d vs B=%d,K=%d (%s): %s%n",
                    identicalSteps, b, k, other[0], other[1], norm.name().toLowerCase(Locale.ROOT), same);
        }

        Cnn model = new Cnn(CnnConfig.fashionMnist(layout, norm, seed));
        int lanes = BenchSupport.lanes(concurrent, model, b, k, threads);
        TrainConfig.Builder cb = TrainConfig.builder().microBatch(b).accumulationSteps(k).threads(threads).lr(lr)
                .concurrentMicroBatches(lanes).seed(seed).weightDecay(0).schedule(ScheduleKind.CONSTANT)
                .clipNorm(Double.POSITIVE_INFINITY);
        TrainConfig tc = (maxSteps > 0 ? cb.maxSteps(maxSteps) : cb.epochs(epochs)).build();
        int eff = b * k;
        long stepsPerEpoch = (train.size() + eff - 1) / eff;
        List<Double> accuracies = new ArrayList<>();
        double[] trainSeconds = new double[1];
        long[] images = new long[1];
        double[] lastLoss = {Double.NaN};
        int evalBatch = b; // test images per forward pass: no more activations than training's, as PyTorch's no_grad
        try (Compute eval = new Compute(threads);
             Trainer<FeatureBatch> trainer = new Trainer<>(tc, model, train)) {
            long planned = trainer.plannedSteps();
            trainer.addListener((StepMetrics m) -> {
                trainSeconds[0] += m.seconds();
                images[0] += m.examples();
                lastLoss[0] = m.loss();
                boolean epochEnd = (m.step() + 1) % stepsPerEpoch == 0;
                if (m.step() % 100 == 0) {
                    System.err.printf(Locale.ROOT, "step %d/%d epoch %d loss %.4f %.0f img/s%n", m.step(), planned,
                            m.epoch(), m.loss(), images[0] / trainSeconds[0]);
                }
                if (epochEnd || m.step() + 1 == planned) {
                    double acc = Accuracy.evaluate(eval, model::logits, test, evalBatch);
                    accuracies.add(acc);
                    System.out.printf(Locale.ROOT, "epoch %d step %d: train loss %.4f, test accuracy %.4f, "
                                    + "%.0f images/s (training only)%n", m.epoch(), m.step() + 1, m.loss(), acc,
                            images[0] / trainSeconds[0]);
                }
            });
            trainer.fit();
        }
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        System.out.printf(Locale.ROOT, "{\"bench\": \"fashion_mnist_cnn\", \"impl\": \"accrue\", \"model\": \"%s\", "
                        + "\"norm\": \"%s\", "
                        + "\"micro_batch\": %d, \"accum\": %d, \"effective_batch\": %d, \"threads\": %d, "
                        + "\"concurrent_micro_batches\": %d, \"lr\": %s, "
                        + "\"train_images\": %d, \"images_trained\": %d, \"train_seconds\": %.2f, "
                        + "\"images_per_s\": %.1f, \"final_train_loss\": %.4f, \"test_accuracy\": %s, "
                        + "\"peak_rss_mb\": %.0f, "
                        + "\"loadavg_1m_end\": %.2f}%n",
                layout.id(), norm.name().toLowerCase(Locale.ROOT), b, k, eff, threads, lanes, lr, train.size(), images[0],
                trainSeconds[0], images[0] / trainSeconds[0], lastLoss[0],
                accuracies.stream().map(a -> String.format(Locale.ROOT, "%.4f", a)).toList(), Throughput.peakRssMb(),
                load);
    }

    /** The first n examples of a dataset. */
    static FeatureDataset head(FeatureDataset d, int n) {
        int m = Math.min(n, d.size());
        int[] idx = new int[m];
        for (int i = 0; i < m; i++) {
            idx[i] = i;
        }
        FeatureBatch all = d.batch(idx);
        return new FeatureDataset(all.features(), all.labels(), d.width());
    }

    /** Trains two fresh models for {@code steps} steps with splits (b1,k1) and (b2,k2); true when all bits match. */
    static boolean identical(CnnConfig.Layout layout, NormKind norm, long seed, double lr, int threads,
                             FeatureDataset data, int b1, int k1, int b2, int k2, int steps) {
        if (b1 * k1 != b2 * k2) {
            throw new IllegalArgumentException("splits B=" + b1 + ",K=" + k1 + " and B=" + b2 + ",K=" + k2
                    + " have different effective batches");
        }
        float[][] w = new float[2][];
        int[][] splits = {{b1, k1}, {b2, k2}};
        for (int s = 0; s < 2; s++) {
            Cnn model = new Cnn(CnnConfig.fashionMnist(layout, norm, seed));
            TrainConfig tc = TrainConfig.builder().microBatch(splits[s][0]).accumulationSteps(splits[s][1])
                    .maxSteps(steps).threads(threads).lr(lr).seed(seed).weightDecay(0)
                    .schedule(ScheduleKind.CONSTANT).clipNorm(Double.POSITIVE_INFINITY).build();
            try (Trainer<FeatureBatch> t = new Trainer<>(tc, model, data)) {
                t.fit();
            }
            w[s] = model.parameters().values();
        }
        int differ = 0;
        for (int i = 0; i < w[0].length; i++) {
            if (Float.floatToRawIntBits(w[0][i]) != Float.floatToRawIntBits(w[1][i])) {
                differ++;
            }
        }
        System.out.printf(Locale.ROOT, "%d of %d weights differ%n", differ, w[0].length);
        return differ == 0;
    }
}
