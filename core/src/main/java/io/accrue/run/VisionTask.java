package io.accrue.run;

import io.accrue.data.FashionMnist;
import io.accrue.data.FeatureDataset;
import io.accrue.models.Cnn;
import io.accrue.models.CnnConfig;
import io.accrue.models.FeatureBatch;
import io.accrue.models.Model;
import io.accrue.nn.NormKind;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A CNN of {@link CnnConfig#fashionMnist(CnnConfig.Layout, NormKind, long)} on Fashion-MNIST, scored by test
 * accuracy ({@link Accuracy}, eval mode) after every epoch and at the end.
 *
 * @param layout the network: plain ({@code cnn}) or residual ({@code resnet})
 * @param norm  normalization after each convolution
 * @param dir   the directory holding the four IDX files
 * @param train the training images (all 60,000, or the first {@code --train-size})
 * @param test  the test images (all 10,000, or the first {@code --eval-size}); null: no evaluation
 * @param loadBytes the heap that loading both splits takes at its peak: each pixel as a byte and as a float
 */
record VisionTask(CnnConfig.Layout layout, NormKind norm, Path dir, FeatureDataset train, FeatureDataset test,
                  long loadBytes) implements Task<FeatureBatch> {
    /** Images per evaluation batch. */
    static final int EVAL_BATCH = 250;

    /**
     * Loads the data from {@code dir}, keeping the first {@code trainSize} training and {@code testSize} test
     * images (null: all; test 0: no evaluation).
     *
     * @throws IllegalArgumentException when a file is missing (with the install hint) or malformed
     */
    static VisionTask load(CnnConfig.Layout layout, NormKind norm, Path dir, Integer trainSize, Integer testSize) {
        FashionMnist.Splits s;
        try {
            s = FashionMnist.load(dir);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        FeatureDataset train = first(s.train(), trainSize, "--train-size");
        FeatureDataset test = testSize != null && testSize == 0 ? null : first(s.test(), testSize, "--eval-size");
        long pixels = (long) (s.train().size() + s.test().size()) * s.train().width();
        return new VisionTask(layout, norm, dir, train, test, pixels * (Float.BYTES + 1));
    }

    private static FeatureDataset first(FeatureDataset d, Integer n, String option) {
        if (n == null || n == d.size()) {
            return d;
        }
        if (n <= 0 || n > d.size()) {
            throw new IllegalArgumentException(option + " " + n + " is outside 1.." + d.size() + " for Fashion-MNIST");
        }
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        FeatureBatch b = d.batch(idx);
        return new FeatureDataset(b.features(), b.labels(), d.width());
    }

    @Override
    public String name() {
        return "fashion-mnist";
    }

    @Override
    public String description() {
        return String.format(Locale.ROOT, "Fashion-MNIST from %s: %,d training images, %s (28×28 grey, 10 classes)",
                dir, train.size(), test == null ? "no evaluation" : String.format(Locale.ROOT, "test accuracy on "
                        + "%,d test images after every epoch", test.size()));
    }

    @Override
    public FeatureDataset train() {
        return train;
    }

    private CnnConfig config(long seed) {
        return CnnConfig.fashionMnist(layout, norm, seed);
    }

    @Override
    public Model<FeatureBatch> model(long seed) {
        return new Cnn(config(seed));
    }

    @Override
    public Model<FeatureBatch> shapes() {
        return Cnn.shapesOnly(config(0));
    }

    @Override
    public long dataBytes() {
        return loadBytes;
    }

    /** The test images {@link #EVAL_BATCH} at a time, forward only, in an arena of their own. */
    @Override
    public long evaluationBytes() {
        if (test == null) {
            return 0;
        }
        Cnn shapes = Cnn.shapesOnly(config(0));
        long bytes = MemoryPlanner.planInference(shapes, shapes.planningBatch(Math.min(EVAL_BATCH, test.size())), 1,
                Runtime.getRuntime().availableProcessors()).activationBytes();
        return bytes + bytes / 4 + (8L << 20); // the arena grows in chunks, each leaving a tail unused
    }

    @Override
    public String modelLine(Model<FeatureBatch> model) {
        CnnConfig c = config(0);
        String blocks = layout == CnnConfig.Layout.PLAIN ? "conv" : "residual blocks";
        String pool = layout == CnnConfig.Layout.PLAIN ? "max-pool" : "max-pool, global average pool";
        return String.format(Locale.ROOT, "model %s: %s %d→%s (3×3) with %s norm, %s, linear → %d classes, %,d "
                        + "parameters", layout.id(), blocks, c.inChannels(),
                String.join("→", c.channels().stream().map(String::valueOf).toList()),
                norm.toString().toLowerCase(Locale.ROOT), pool, c.classes(), model.parameters().size());
    }

    @Override
    public Map<String, String> identity() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("task", name());
        m.put("train_size", Integer.toString(train.size()));
        m.put("model_config", config(0).describe());
        return m;
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of("model", layout.id(), "norm", norm.toString().toLowerCase(Locale.ROOT), "data", dir.toString());
    }

    @Override
    public int unitsPerExample() {
        return 1;
    }

    @Override
    public String unit() {
        return "img";
    }

    @Override
    public boolean evaluatesEachEpoch() {
        return true;
    }

    @Override
    public String metric() {
        return test != null ? "test_accuracy" : null;
    }

    @Override
    public Evaluation evaluate(Trainer<FeatureBatch> trainer, String when, Consumer<String> console) {
        if (test == null) {
            return null;
        }
        long t0 = System.nanoTime();
        Cnn cnn = (Cnn) trainer.model();
        double accuracy = Accuracy.evaluate(trainer.tape().compute(), cnn::logits, test, EVAL_BATCH);
        double seconds = (System.nanoTime() - t0) / 1e9;
        console.accept(String.format(Locale.ROOT, "test accuracy %s: %,d/%,d = %.2f%% (%s)", when,
                Math.round(accuracy * test.size()), test.size(), 100 * accuracy, Run.clock(seconds)));
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("test_images", test.size());
        results.put("test_accuracy", accuracy);
        results.put("eval_seconds", seconds);
        return new Evaluation("test_accuracy", accuracy, results, seconds);
    }
}
