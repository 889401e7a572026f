package io.accrue.models;

import io.accrue.nn.NormKind;

import java.util.List;
import java.util.Locale;

/**
 * Configuration of a {@link Cnn}, one of two layouts ({@link Layout}): the plain network of two blocks conv(3×3,
 * padding 1) → norm → ReLU → max-pool(2) and a linear classifier on the flattened map, or the residual network of
 * three blocks of two 3×3 convolutions with a shortcut, max-pool(2) between blocks, global average pooling and a
 * linear classifier.
 *
 * @param layout     plain ({@code cnn}) or residual ({@code resnet})
 * @param inChannels Cin of the image
 * @param height     H
 * @param width      W
 * @param channels   output channels of each block: two for the plain layout, three for the residual one
 * @param classes    number of output classes
 * @param norm       normalization after each convolution: none, batch, group, or layer (= GroupNorm with one
 *                   group, i.e. LayerNorm over (C, H, W)); RMS is not offered for images
 * @param groups     groups for {@link NormKind#GROUP}; must divide every block's channels
 * @param seed       initialisation seed
 */
public record CnnConfig(Layout layout, int inChannels, int height, int width, List<Integer> channels, int classes,
                        NormKind norm, int groups, long seed) {

    /** The two CNN layouts, by their {@code --model} names. */
    public enum Layout {
        /** Two conv → norm → ReLU → max-pool blocks, then a linear classifier on the flattened map. */
        PLAIN("cnn", 2),
        /**
         * Three residual blocks {@code relu(norm(conv(relu(norm(conv(x))))) + shortcut(x))}, the shortcut a 1×1
         * convolution where the channels change; max-pool(2) after the first two, global average pooling after
         * the last, then a linear classifier.
         */
        RESIDUAL("resnet", 3);

        private final String id;
        private final int blocks;

        Layout(String id, int blocks) {
            this.id = id;
            this.blocks = blocks;
        }

        /** The {@code --model} name: {@code cnn} or {@code resnet}. */
        public String id() {
            return id;
        }

        /** Blocks of the layout, one entry of {@link #channels()} each. */
        public int blocks() {
            return blocks;
        }

        /**
         * The layout named {@code id}.
         *
         * @throws IllegalArgumentException naming the value and the choices
         */
        public static Layout of(String id) {
            for (Layout l : values()) {
                if (l.id.equals(id.toLowerCase(Locale.ROOT))) {
                    return l;
                }
            }
            throw new IllegalArgumentException("--model: unknown value '" + id + "' for fashion-mnist; use cnn (two "
                    + "conv blocks) or resnet (three residual blocks)");
        }
    }

    public CnnConfig {
        channels = List.copyOf(channels);
        if (layout == null || channels.size() != layout.blocks()) {
            throw new IllegalArgumentException("layout " + layout + " needs " + (layout == null ? "?"
                    : layout.blocks()) + " channel counts, got " + channels);
        }
        if (inChannels <= 0 || channels.stream().anyMatch(c -> c <= 0)) {
            throw new IllegalArgumentException("channels must be positive, got inChannels=" + inChannels
                    + " channels=" + channels);
        }
        if (height < 4 || width < 4) {
            throw new IllegalArgumentException("image must be at least 4×4 (two 2×2 poolings), got " + height + "×"
                    + width);
        }
        if (layout == Layout.RESIDUAL && height != width) {
            throw new IllegalArgumentException("the residual layout pools its last map globally with a square window:"
                    + " the image must be square, got " + height + "×" + width);
        }
        if (classes <= 1) {
            throw new IllegalArgumentException("classes must be at least 2, got " + classes);
        }
        if (norm == null || norm == NormKind.RMS) {
            throw new IllegalArgumentException("norm must be one of none, batch, group, layer for a CNN, got "
                    + norm);
        }
        int g = groups;
        if (norm == NormKind.GROUP && (groups <= 0 || channels.stream().anyMatch(c -> c % g != 0))) {
            throw new IllegalArgumentException("groups=" + groups + " must divide every block's channels "
                    + channels);
        }
    }

    /** The plain layout with blocks of {@code channels1} and {@code channels2} channels. */
    public CnnConfig(int inChannels, int height, int width, int channels1, int channels2, int classes, NormKind norm,
                     int groups, long seed) {
        this(Layout.PLAIN, inChannels, height, width, List.of(channels1, channels2), classes, norm, groups, seed);
    }

    /** The Fashion-MNIST network of the benchmarks: 1×28×28 → 16 → 32 channels → 10 classes, 4 groups. */
    public static CnnConfig fashionMnist(NormKind norm, long seed) {
        return new CnnConfig(1, 28, 28, 16, 32, 10, norm, 4, seed);
    }

    /** The larger Fashion-MNIST network: residual blocks of 32, 64 and 128 channels → 10 classes, 8 groups. */
    public static CnnConfig fashionMnistResidual(NormKind norm, long seed) {
        return new CnnConfig(Layout.RESIDUAL, 1, 28, 28, List.of(32, 64, 128), 10, norm, 8, seed);
    }

    /** The Fashion-MNIST network of {@code layout}: {@link #fashionMnist} or {@link #fashionMnistResidual}. */
    public static CnnConfig fashionMnist(Layout layout, NormKind norm, long seed) {
        return layout == Layout.PLAIN ? fashionMnist(norm, seed) : fashionMnistResidual(norm, seed);
    }

    /** Feature width of an input row: Cin·H·W. */
    public int inputs() {
        return inChannels * height * width;
    }

    /**
     * Width of the features the classifier sees: the flattened last map C·(H/2/2)·(W/2/2) (plain), or the last
     * block's channels after global average pooling (residual).
     */
    public int flatFeatures() {
        int last = channels.getLast();
        return layout == Layout.PLAIN ? last * (height / 2 / 2) * (width / 2 / 2) : last;
    }

    /**
     * One line for logs and checkpoints, e.g. {@code Cnn[in=1×28×28, channels=16,32, classes=10, norm=group,
     * groups=4]} (a checkpoint of another configuration is refused on resume).
     */
    public String describe() {
        return String.format(Locale.ROOT, "%s[in=%d×%d×%d, channels=%s, classes=%d, norm=%s, groups=%d]",
                layout == Layout.PLAIN ? "Cnn" : "ResNet", inChannels, height, width,
                String.join(",", channels.stream().map(String::valueOf).toList()), classes,
                norm.toString().toLowerCase(Locale.ROOT), groups);
    }
}
