package io.accrue.models;

import io.accrue.autograd.AddOp;
import io.accrue.autograd.AvgPool2dOp;
import io.accrue.autograd.Loss;
import io.accrue.autograd.MaxPool2dOp;
import io.accrue.autograd.ReluOp;
import io.accrue.autograd.SoftmaxCrossEntropyOp;
import io.accrue.autograd.Tape;
import io.accrue.nn.Conv2d;
import io.accrue.nn.GroupNorm;
import io.accrue.nn.Linear;
import io.accrue.nn.NormKind;
import io.accrue.nn.Normalization;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Convolutional classifier for images given as flattened feature rows (Cin·H·W, row-major), in one of the two
 * layouts of {@link CnnConfig.Layout}:
 * <ul>
 *   <li>plain ({@code cnn}): {@code conv1 → norm1 → ReLU → maxpool2 → conv2 → norm2 → ReLU → maxpool2 → flatten → fc};
 *       parameters {@code conv1.weight} (C1, Cin, 3, 3), {@code norm1.weight/bias} (C1), {@code conv2.weight}
 *       (C2, C1, 3, 3), {@code norm2.weight/bias} (C2), {@code fc.weight} (classes, C2·H/4·W/4), {@code fc.bias};</li>
 *   <li>residual ({@code resnet}): three blocks {@code x ← ReLU(norm2(conv2(ReLU(norm1(conv1(x))))) + shortcut(x))},
 *       {@code blockB.conv1/norm1/conv2/norm2} and, where the channels change, a 1×1 {@code blockB.shortcut}
 *       convolution; maxpool2 after blocks 1 and 2, global average pooling after block 3, then {@code fc}
 *       (classes, C3).</li>
 * </ul>
 * The convolutions carry a bias ({@code .bias}) only without normalization, whose shift makes it redundant; a
 * normalization followed by ReLU runs as one op where the layer fuses them ({@link Normalization#forwardRelu}).
 * With GroupNorm, LayerNorm or no normalization an example's loss does not depend on the other examples of the
 * micro-batch, so accumulation is exact; BatchNorm {@link #mixesExamples() mixes examples}.
 */
public final class Cnn implements Model<FeatureBatch> {
    private final CnnConfig config;
    private final ParameterStore store;
    private final List<Block> blocks;
    private final Linear fc;

    /**
     * One block: {@code conv → norm → ReLU} (plain), or two of them with the second's ReLU after the shortcut's
     * add (residual; {@code shortcut} null where the channels stay).
     */
    private record Block(Conv2d conv1, Normalization norm1, Conv2d conv2, Normalization norm2, Conv2d shortcut) {
    }

    public Cnn(CnnConfig config) {
        this(config, new ParameterStore());
    }

    /**
     * A Cnn with the parameter shapes and layout of {@code config} and no weights ({@link ParameterStore#shapesOnly}):
     * for dry runs ({@code MemoryPlanner}); it cannot be trained.
     */
    public static Cnn shapesOnly(CnnConfig config) {
        return new Cnn(config, ParameterStore.shapesOnly());
    }

    private Cnn(CnnConfig config, ParameterStore store) {
        this.config = config;
        this.store = store;
        boolean bias = config.norm() == NormKind.NONE;
        long seed = config.seed();
        List<Block> b = new ArrayList<>();
        int in = config.inChannels();
        for (int i = 0; i < config.channels().size(); i++) {
            int out = config.channels().get(i);
            if (config.layout() == CnnConfig.Layout.PLAIN) {
                String n = Integer.toString(i + 1);
                b.add(new Block(new Conv2d(store, "conv" + n, in, out, 3, 1, 1, bias, seed),
                        norm(config, "norm" + n, out), null, null, null));
            } else {
                String p = "block" + (i + 1) + ".";
                b.add(new Block(new Conv2d(store, p + "conv1", in, out, 3, 1, 1, bias, seed),
                        norm(config, p + "norm1", out), new Conv2d(store, p + "conv2", out, out, 3, 1, 1, bias, seed),
                        norm(config, p + "norm2", out),
                        in == out ? null : new Conv2d(store, p + "shortcut", in, out, 1, 1, 0, bias, seed)));
            }
            in = out;
        }
        blocks = List.copyOf(b);
        fc = new Linear(store, "fc", config.flatFeatures(), config.classes(), seed);
        store.allocate();
    }

    private Normalization norm(CnnConfig c, String name, int channels) {
        return switch (c.norm()) {
            case LAYER -> new GroupNorm(store, name, channels, 1); // LayerNorm over (C, H, W)
            default -> c.norm().create(store, name, channels, c.groups());
        };
    }

    public CnnConfig config() {
        return config;
    }

    @Override
    public ParameterStore parameters() {
        return store;
    }

    /** Class logits (B, classes) of a batch of flattened images. */
    public Tensor logits(Tape tape, FeatureBatch batch) {
        if (batch.width() != config.inputs()) {
            throw new IllegalArgumentException("batch has " + batch.width() + " features, model expects Cin·H·W = "
                    + config.inChannels() + "·" + config.height() + "·" + config.width() + " = " + config.inputs());
        }
        int b = batch.batch();
        // (B, Cin, H, W)
        Tensor x = tape.input(batch.features(), b, config.inChannels(), config.height(), config.width());
        boolean plain = config.layout() == CnnConfig.Layout.PLAIN;
        for (int i = 0; i < blocks.size(); i++) {
            Block bl = blocks.get(i);
            x = plain ? normRelu(tape, bl.conv1(), bl.norm1(), x) : residual(tape, bl, x);
            if (plain || i < blocks.size() - 1) {
                x = MaxPool2dOp.forward(tape, x, 2, 2); // (B, C, H/2, W/2)
            }
        }
        if (!plain) {
            x = AvgPool2dOp.forward(tape, x, x.dim(2), x.dim(2)); // global: (B, C, 1, 1), the map is square
        }
        x = x.reshape(b, x.size() / b); // flatten: a view sharing the gradient
        return fc.forward(tape, x);
    }

    /** {@code ReLU(norm(conv(x)))}; without normalization, conv then ReLU. */
    private static Tensor normRelu(Tape tape, Conv2d conv, Normalization norm, Tensor x) {
        Tensor h = conv.forward(tape, x);
        return norm != null ? norm.forwardRelu(tape, h) : ReluOp.forward(tape, h);
    }

    /** {@code ReLU(norm2(conv2(ReLU(norm1(conv1(x))))) + shortcut(x))}, shortcut the identity where it is null. */
    private static Tensor residual(Tape tape, Block bl, Tensor x) {
        Tensor h = bl.conv2().forward(tape, normRelu(tape, bl.conv1(), bl.norm1(), x));
        if (bl.norm2() != null) {
            h = bl.norm2().forward(tape, h);
        }
        Tensor skip = bl.shortcut() != null ? bl.shortcut().forward(tape, x) : x;
        return ReluOp.forward(tape, AddOp.forward(tape, h, skip));
    }

    @Override
    public Loss loss(Tape tape, FeatureBatch batch) {
        return SoftmaxCrossEntropyOp.forward(tape, logits(tape, batch), batch.labels(), -1);
    }

    @Override
    public FeatureBatch planningBatch(int microBatch) {
        return FeatureBatch.zeros(microBatch, config.inputs());
    }

    @Override
    public boolean mixesExamples() {
        Normalization first = blocks.getFirst().norm1();
        return first != null && first.mixesExamples();
    }
}
