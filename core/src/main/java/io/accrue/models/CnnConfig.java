package io.accrue.models;

import io.accrue.nn.NormKind;

/**
 * Configuration of a {@link Cnn}: two blocks conv(3×3, padding 1) → norm → ReLU → max-pool(2), then a linear
 * classifier on the flattened (C2, H/4, W/4) map.
 *
 * @param inChannels Cin of the image
 * @param height     H
 * @param width      W
 * @param channels1  C1, output channels of the first convolution
 * @param channels2  C2, output channels of the second convolution
 * @param classes    number of output classes
 * @param norm       normalization after each convolution: none, batch, group, or layer (= GroupNorm with one
 *                   group, i.e. LayerNorm over (C, H, W)); RMS is not offered for images
 * @param groups     groups for {@link NormKind#GROUP}; must divide C1 and C2
 * @param seed       initialisation seed
 */
public record CnnConfig(int inChannels, int height, int width, int channels1, int channels2, int classes,
                        NormKind norm, int groups, long seed) {
    public CnnConfig {
        if (inChannels <= 0 || channels1 <= 0 || channels2 <= 0) {
            throw new IllegalArgumentException("channels must be positive, got inChannels=" + inChannels
                    + " channels1=" + channels1 + " channels2=" + channels2);
        }
        if (height < 4 || width < 4) {
            throw new IllegalArgumentException("image must be at least 4×4 (two 2×2 poolings), got " + height + "×"
                    + width);
        }
        if (classes <= 1) {
            throw new IllegalArgumentException("classes must be at least 2, got " + classes);
        }
        if (norm == null || norm == NormKind.RMS) {
            throw new IllegalArgumentException("norm must be one of none, batch, group, layer for a CNN, got "
                    + norm);
        }
        if (norm == NormKind.GROUP && (groups <= 0 || channels1 % groups != 0 || channels2 % groups != 0)) {
            throw new IllegalArgumentException("groups=" + groups + " must divide channels1=" + channels1
                    + " and channels2=" + channels2);
        }
    }

    /** The Fashion-MNIST network of the benchmarks: 1×28×28 → 16 → 32 channels → 10 classes, 4 groups. */
    public static CnnConfig fashionMnist(NormKind norm, long seed) {
        return new CnnConfig(1, 28, 28, 16, 32, 10, norm, 4, seed);
    }

    /** Feature width of an input row: Cin·H·W. */
    public int inputs() {
        return inChannels * height * width;
    }

    /** Width of the flattened map the classifier sees: C2·(H/2/2)·(W/2/2). */
    public int flatFeatures() {
        return channels2 * (height / 2 / 2) * (width / 2 / 2);
    }
}
