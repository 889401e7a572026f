package io.accrue.models;

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

/**
 * Small convolutional classifier for images given as flattened feature rows (Cin·H·W, row-major):
 * {@code conv1 → norm1 → ReLU → maxpool2 → conv2 → norm2 → ReLU → maxpool2 → flatten → fc → softmax cross-entropy}.
 *
 * <p>Parameters: {@code conv1.weight} (C1, Cin, 3, 3), {@code norm1.weight/bias} (C1), {@code conv2.weight}
 * (C2, C1, 3, 3), {@code norm2.weight/bias} (C2), {@code fc.weight} (classes, C2·H/4·W/4), {@code fc.bias}. The
 * convolutions carry a bias ({@code convN.bias}) only without normalization, whose shift makes it redundant.
 * With GroupNorm, LayerNorm or no normalization an example's loss does not depend on the other examples of the
 * micro-batch, so accumulation is exact; BatchNorm {@link #mixesExamples() mixes examples}.
 */
public final class Cnn implements Model<FeatureBatch> {
    private final CnnConfig config;
    private final ParameterStore store;
    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Normalization norm1;
    private final Normalization norm2;
    private final Linear fc;

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
        conv1 = new Conv2d(store, "conv1", config.inChannels(), config.channels1(), 3, 1, 1, bias, config.seed());
        norm1 = norm(config, "norm1", config.channels1());
        conv2 = new Conv2d(store, "conv2", config.channels1(), config.channels2(), 3, 1, 1, bias, config.seed());
        norm2 = norm(config, "norm2", config.channels2());
        fc = new Linear(store, "fc", config.flatFeatures(), config.classes(), config.seed());
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
        x = block(tape, x, conv1, norm1); // (B, C1, H/2, W/2)
        x = block(tape, x, conv2, norm2); // (B, C2, H/4, W/4)
        x = x.reshape(b, x.size() / b); // flatten: a view sharing the gradient
        return fc.forward(tape, x);
    }

    private static Tensor block(Tape tape, Tensor x, Conv2d conv, Normalization norm) {
        x = conv.forward(tape, x);
        if (norm != null) {
            x = norm.forward(tape, x);
        }
        x = ReluOp.forward(tape, x);
        return MaxPool2dOp.forward(tape, x, 2, 2);
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
        return norm1 != null && norm1.mixesExamples();
    }
}
