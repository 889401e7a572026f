package io.accrue.train;

import io.accrue.data.FeatureDataset;
import io.accrue.data.SequenceDataset;
import io.accrue.optim.Optimizer;
import io.accrue.tensor.KeyedRandom;
import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Synthetic datasets and bit-level comparisons shared by the trainer tests. */
final class Fixtures {
    private Fixtures() {
    }

    /** n examples of width d with labels from a fixed random linear rule over `classes` classes. */
    static FeatureDataset features(int n, int d, int classes, long seed) {
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) KeyedRandom.gaussian(seed, i, j, 0);
            }
            for (int c = 0; c < classes; c++) {
                double s = 0;
                for (int j = 0; j < d; j++) {
                    s += x[i * d + j] * KeyedRandom.gaussian(seed + 1, c, j, 0);
                }
                if (s > best) {
                    best = s;
                    y[i] = c;
                }
            }
        }
        return new FeatureDataset(x, y, d);
    }

    /** n random token sequences over vocabulary v with lengths in [minLen, seq+1]. */
    static SequenceDataset sequences(int n, int seq, int v, int minLen, long seed) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = minLen >= seq + 1 ? seq + 1
                    : minLen + (int) Long.remainderUnsigned(KeyedRandom.hash(seed, i, 0, 1), seq + 2 - minLen);
            int[] s = new int[len];
            for (int t = 0; t < len; t++) {
                // a learnable pattern: mostly the previous token + 1, sometimes noise
                long h = KeyedRandom.hash(seed, i, t, 2);
                s[t] = t == 0 || (h & 7) == 0 ? (int) Long.remainderUnsigned(h >>> 8, v) : (s[t - 1] + 1) % v;
            }
            out.add(s);
        }
        return new SequenceDataset(out, seq);
    }

    /** Fails naming the first parameter and element whose raw bits differ, in weights and optimizer states. */
    static void assertBitIdentical(String what, ParameterStore a, Optimizer oa, ParameterStore b, Optimizer ob) {
        assertBuffersIdentical(what + " weights", a, a.values(), b.values());
        List<float[]> sa = oa.state();
        List<float[]> sb = ob.state();
        assertEquals(sa.size(), sb.size(), what + ": optimizer state count");
        for (int s = 0; s < sa.size(); s++) {
            assertBuffersIdentical(what + " optimizer state " + s, a, sa.get(s), sb.get(s));
        }
        assertEquals(oa.steps(), ob.steps(), what + ": optimizer steps");
    }

    static void assertBuffersIdentical(String what, ParameterStore layout, float[] x, float[] y) {
        for (Parameter p : layout.parameters()) {
            for (int i = 0; i < p.size(); i++) {
                int k = p.offset() + i;
                if (Float.floatToRawIntBits(x[k]) != Float.floatToRawIntBits(y[k])) {
                    fail(what + " differ first at " + p.name() + "[" + i + "]: " + x[k] + " vs " + y[k]);
                }
            }
        }
    }

    /** Relative L2 distance of two buffers. */
    static double relativeL2(float[] x, float[] ref) {
        double d = 0;
        double r = 0;
        for (int i = 0; i < ref.length; i++) {
            d += (double) (x[i] - ref[i]) * (x[i] - ref[i]);
            r += (double) ref[i] * ref[i];
        }
        return Math.sqrt(d / r);
    }
}
