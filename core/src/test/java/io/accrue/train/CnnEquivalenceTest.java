package io.accrue.train;

import io.accrue.data.FeatureDataset;
import io.accrue.run.Accuracy;
import io.accrue.models.Cnn;
import io.accrue.models.CnnConfig;
import io.accrue.nn.NormKind;
import io.accrue.tensor.KeyedRandom;
import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;
import io.accrue.tensor.Compute;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The CNN keeps the exactness promise with GroupNorm and LayerNorm, and BatchNorm visibly does not. */
class CnnEquivalenceTest {
    private static final int[][] SPLITS = {{16, 1}, {4, 4}, {1, 16}};
    private static final int STEPS = 3;
    private static final int SIDE = 8;

    /** n images (1, SIDE, SIDE) of noise plus a bright bar whose orientation/position is the class (3 classes). */
    static FeatureDataset images(int n, long seed) {
        int d = SIDE * SIDE;
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = (int) Long.remainderUnsigned(KeyedRandom.hash(seed, i, 0, 0), 3);
            for (int r = 0; r < SIDE; r++) {
                for (int c = 0; c < SIDE; c++) {
                    boolean bar = switch (y[i]) {
                        case 0 -> r == SIDE / 2;
                        case 1 -> c == SIDE / 2;
                        default -> r == c;
                    };
                    x[i * d + r * SIDE + c] = (float) (0.5 * KeyedRandom.gaussian(seed, i, r, c)) + (bar ? 1f : 0f);
                }
            }
        }
        return new FeatureDataset(x, y, d);
    }

    private static CnnConfig config(NormKind norm) {
        return new CnnConfig(1, SIDE, SIDE, 4, 8, 3, norm, 2, 5);
    }

    private static TrainConfig train(int b, int k, int threads) {
        return TrainConfig.builder().microBatch(b).accumulationSteps(k).maxSteps(STEPS).threads(threads).lr(3e-3)
                .weightDecay(0.01).seed(9).build();
    }

    private static float[] trainedWeights(NormKind norm, int b, int k, int threads, FeatureDataset data) {
        return trainedWeights(config(norm), b, k, threads, data);
    }

    private static float[] trainedWeights(CnnConfig config, int b, int k, int threads, FeatureDataset data) {
        Cnn model = new Cnn(config);
        try (Trainer<?> t = new Trainer<>(train(b, k, threads), model, data)) {
            TrainResult r = t.fit();
            assertEquals(STEPS, r.steps(), "clean steps: " + r);
        }
        return model.parameters().values().clone();
    }

    @Test
    void groupAndLayerNormCnnsAreBitExactAcrossSplits() {
        FeatureDataset data = images(STEPS * 16, 1);
        for (NormKind norm : List.of(NormKind.GROUP, NormKind.LAYER, NormKind.NONE)) {
            ParameterStore layout = new Cnn(config(norm)).parameters();
            float[] reference = trainedWeights(norm, 16, 1, 1, data);
            for (int[] split : SPLITS) {
                for (int threads : new int[] {1, 2}) {
                    float[] w = trainedWeights(norm, split[0], split[1], threads, data);
                    assertIdentical(norm + " B=" + split[0] + ",K=" + split[1] + ",threads=" + threads, layout,
                            reference, w);
                }
            }
        }
    }

    /** The residual layout (1×1 shortcuts, residual adds, global average pooling) keeps the promise too. */
    @Test
    void residualCnnIsBitExactAcrossSplits() {
        FeatureDataset data = images(STEPS * 16, 3);
        CnnConfig config = new CnnConfig(CnnConfig.Layout.RESIDUAL, 1, SIDE, SIDE, List.of(4, 4, 8), 3,
                NormKind.GROUP, 2, 5);
        ParameterStore layout = new Cnn(config).parameters();
        float[] reference = trainedWeights(config, 16, 1, 1, data);
        for (int[] split : SPLITS) {
            float[] w = trainedWeights(config, split[0], split[1], 2, data);
            assertIdentical("resnet B=" + split[0] + ",K=" + split[1], layout, reference, w);
        }
    }

    @Test
    void batchNormCnnDependsOnTheSplit() {
        FeatureDataset data = images(STEPS * 16, 1);
        assertTrue(new Cnn(config(NormKind.BATCH)).mixesExamples());
        assertFalse(new Cnn(config(NormKind.GROUP)).mixesExamples());
        float[] whole = trainedWeights(NormKind.BATCH, 16, 1, 1, data);
        float[] split = trainedWeights(NormKind.BATCH, 4, 4, 1, data);
        int differ = 0;
        for (int i = 0; i < whole.length; i++) {
            if (Float.floatToRawIntBits(whole[i]) != Float.floatToRawIntBits(split[i])) {
                differ++;
            }
        }
        assertTrue(differ > whole.length / 2, "only " + differ + " of " + whole.length + " weights differ");
    }

    @Test
    void parameterNamesAndShapes() {
        Cnn cnn = new Cnn(CnnConfig.fashionMnist(NormKind.GROUP, 1));
        List<String> names = cnn.parameters().parameters().stream().map(Parameter::name).toList();
        assertEquals(List.of("conv1.weight", "norm1.weight", "norm1.bias", "conv2.weight", "norm2.weight",
                "norm2.bias", "fc.weight", "fc.bias"), names);
        assertEquals(List.of(32, 16, 3, 3), boxed(cnn.parameters().get("conv2.weight").value().shape()));
        assertEquals(List.of(10, 32 * 7 * 7), boxed(cnn.parameters().get("fc.weight").value().shape()));
        List<String> plain = new Cnn(CnnConfig.fashionMnist(NormKind.NONE, 1)).parameters().parameters().stream()
                .map(Parameter::name).toList();
        assertEquals(List.of("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"),
                plain);
        Cnn resnet = new Cnn(CnnConfig.fashionMnistResidual(NormKind.GROUP, 1));
        List<String> blocks = resnet.parameters().parameters().stream().map(Parameter::name).toList();
        assertEquals(List.of("block1.conv1.weight", "block1.norm1.weight", "block1.norm1.bias", "block1.conv2.weight",
                "block1.norm2.weight", "block1.norm2.bias", "block1.shortcut.weight"), blocks.subList(0, 7));
        assertEquals(List.of(128, 64, 3, 3), boxed(resnet.parameters().get("block3.conv1.weight").value().shape()));
        assertEquals(List.of(128, 64, 1, 1), boxed(resnet.parameters().get("block3.shortcut.weight").value().shape()));
        assertEquals(List.of(10, 128), boxed(resnet.parameters().get("fc.weight").value().shape()));
        assertEquals(298_442, resnet.parameters().size(), "parameters of the resnet");
    }

    @Test
    void trainingLearnsTheSyntheticTask() {
        FeatureDataset data = images(480, 2);
        Cnn model = new Cnn(config(NormKind.GROUP));
        TrainConfig c = TrainConfig.builder().microBatch(16).accumulationSteps(2).epochs(3).threads(2).lr(1e-2)
                .seed(3).build();
        try (Trainer<?> t = new Trainer<>(c, model, data)) {
            t.fit();
        }
        try (Compute compute = new Compute(2)) {
            double acc = Accuracy.evaluate(compute, model::logits, images(300, 99), 64);
            assertTrue(acc > 0.8, "accuracy " + acc + " on held-out synthetic images");
        }
    }

    private static List<Integer> boxed(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }

    private static void assertIdentical(String what, ParameterStore layout, float[] x, float[] y) {
        for (Parameter p : layout.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                int k = p.offset() + i;
                if (Float.floatToRawIntBits(x[k]) != Float.floatToRawIntBits(y[k])) {
                    fail(what + ": weights differ first at " + p.name() + "[" + i + "]: " + x[k] + " vs " + y[k]);
                }
            }
        }
    }
}
