package io.accrue.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fashion-MNIST (Zalando): 60,000 training and 10,000 test images of 28×28 grey pixels in 10 classes, read from
 * the four gzip'd IDX files of Debian's {@code dataset-fashion-mnist} package ({@value #DEBIAN_DIRECTORY}) or any
 * directory holding them.
 *
 * <p>Each image becomes a feature row of 784 values {@code (p/255 − MEAN)/STD} (row-major, i.e. the flattened
 * (1, 28, 28) image), the per-pixel statistics of the training set commonly used for this data.
 */
public final class FashionMnist {
    /** Where Debian's {@code dataset-fashion-mnist} package installs the files. */
    public static final String DEBIAN_DIRECTORY = "/usr/share/datasets/fashion-mnist";
    /** Environment variable that overrides {@link #defaultDirectory()}. */
    public static final String ENV = "ACCRUE_FASHION_MNIST";
    public static final int ROWS = 28;
    public static final int COLS = 28;
    public static final int CLASSES = 10;
    /** Mean and standard deviation of the training pixels scaled to [0, 1]. */
    public static final float MEAN = 0.2860f;
    public static final float STD = 0.3530f;
    /** The feature of each pixel value. */
    private static final float[] NORMALIZED = new float[256];

    static {
        for (int v = 0; v < NORMALIZED.length; v++) {
            NORMALIZED[v] = (v / 255f - MEAN) / STD;
        }
    }

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

    private FashionMnist() {
    }

    /** The training and test sets. */
    public record Splits(FeatureDataset train, FeatureDataset test) {
    }

    /** {@code $ACCRUE_FASHION_MNIST} when set, else {@value #DEBIAN_DIRECTORY}. */
    public static Path defaultDirectory() {
        String env = System.getenv(ENV);
        return Path.of(env != null && !env.isBlank() ? env : DEBIAN_DIRECTORY);
    }

    /** Reads the four files from {@code dir}; a missing file's message says how to install the package. */
    public static Splits load(Path dir) throws IOException {
        for (String f : new String[] {TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS}) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                throw new IOException("Fashion-MNIST: " + dir.resolve(f) + " not found; install it with: "
                        + "apt-get install dataset-fashion-mnist, or pass a directory holding " + TRAIN_IMAGES + ", "
                        + TRAIN_LABELS + ", " + TEST_IMAGES + " and " + TEST_LABELS + " (or set " + ENV + ")");
            }
        }
        return new Splits(split(dir.resolve(TRAIN_IMAGES), dir.resolve(TRAIN_LABELS)),
                split(dir.resolve(TEST_IMAGES), dir.resolve(TEST_LABELS)));
    }

    /** One split: images and labels of the same count, 28×28, labels in [0, 10). */
    static FeatureDataset split(Path imagesFile, Path labelsFile) throws IOException {
        IdxReader.FloatImages images = IdxReader.readImages(imagesFile, NORMALIZED);
        int[] labels = IdxReader.readLabels(labelsFile);
        if (images.rows() != ROWS || images.cols() != COLS) {
            throw new IllegalArgumentException(imagesFile + ": images are " + images.rows() + "×" + images.cols()
                    + ", expected " + ROWS + "×" + COLS);
        }
        if (images.count() != labels.length) {
            throw new IllegalArgumentException(imagesFile + " holds " + images.count() + " images but " + labelsFile
                    + " holds " + labels.length + " labels");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= CLASSES) {
                throw new IllegalArgumentException(labelsFile + ": label " + labels[i] + " of example " + i
                        + " is outside [0, " + CLASSES + ")");
            }
        }
        return new FeatureDataset(images.pixels(), labels, ROWS * COLS);
    }
}
