package io.accrue.models;

import io.accrue.autograd.DropoutOp;
import io.accrue.autograd.Loss;
import io.accrue.autograd.ReluOp;
import io.accrue.autograd.SoftmaxCrossEntropyOp;
import io.accrue.autograd.Tape;
import io.accrue.nn.Linear;
import io.accrue.nn.Normalization;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/** Multi-layer perceptron classifier: (linear → norm → ReLU → dropout)* → linear → softmax cross-entropy. */
public final class Mlp implements Model<FeatureBatch> {
    private final MlpConfig config;
    private final ParameterStore store;
    private final List<Linear> linears = new ArrayList<>();
    private final List<Normalization> norms = new ArrayList<>();

    public Mlp(MlpConfig config) {
        this(config, new ParameterStore());
    }

    /**
     * An Mlp with the parameter shapes and layout of {@code config} and no weights ({@link ParameterStore#shapesOnly}):
     * for dry runs ({@code MemoryPlanner}); it cannot be trained.
     */
    public static Mlp shapesOnly(MlpConfig config) {
        return new Mlp(config, ParameterStore.shapesOnly());
    }

    private Mlp(MlpConfig config, ParameterStore store) {
        this.config = config;
        this.store = store;
        int width = config.inputs();
        for (int i = 0; i < config.hidden().size(); i++) {
            int h = config.hidden().get(i);
            linears.add(new Linear(store, "layers." + i, width, h, config.seed()));
            norms.add(config.norm().create(store, "layers." + i + ".norm", h, config.groups()));
            width = h;
        }
        linears.add(new Linear(store, "head", width, config.classes(), config.seed()));
        store.allocate();
    }

    public MlpConfig config() {
        return config;
    }

    @Override
    public ParameterStore parameters() {
        return store;
    }

    /** Class logits (B, classes) of a batch. */
    public Tensor logits(Tape tape, FeatureBatch batch) {
        if (batch.width() != config.inputs()) {
            throw new IllegalArgumentException("batch has " + batch.width() + " features, model expects "
                    + config.inputs());
        }
        Tensor x = tape.input(batch.features(), batch.batch(), batch.width());
        for (int i = 0; i < norms.size(); i++) {
            x = linears.get(i).forward(tape, x);
            if (norms.get(i) != null) {
                x = norms.get(i).forward(tape, x);
            }
            x = ReluOp.forward(tape, x);
            x = DropoutOp.forward(tape, x, config.dropout(), config.seed(), i, batch.exampleIds());
        }
        return linears.getLast().forward(tape, x);
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
        return norms.stream().anyMatch(n -> n != null && n.mixesExamples());
    }
}
