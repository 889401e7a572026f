package io.accrue.data;

import io.accrue.models.FeatureBatch;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Loads the real data of Debian's {@code dataset-fashion-mnist} package (or {@code $ACCRUE_FASHION_MNIST}). It never
 * skips: without the data it fails with the install hint ({@code .ci/run} installs the package).
 */
class FashionMnistTest {

    @Test
    void realDataHasTheDocumentedSizesAndLabels() throws IOException {
        FashionMnist.Splits s = FashionMnist.load(FashionMnist.defaultDirectory());
        assertEquals(60_000, s.train().size());
        assertEquals(10_000, s.test().size());
        assertEquals(28 * 28, s.train().width());
        assertEquals(28 * 28, s.test().width());
        for (FeatureDataset d : new FeatureDataset[] {s.train(), s.test()}) {
            int[] idx = new int[d.size()];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = i;
            }
            FeatureBatch all = d.batch(idx);
            int[] perClass = new int[FashionMnist.CLASSES];
            for (int y : all.labels()) {
                perClass[y]++;
            }
            for (int c = 0; c < perClass.length; c++) {
                assertEquals(d.size() / 10, perClass[c], "class " + c + " count"); // balanced: 6,000 / 1,000 each
            }
            float lo = (0f - FashionMnist.MEAN) / FashionMnist.STD;
            float hi = (1f - FashionMnist.MEAN) / FashionMnist.STD;
            double sum = 0;
            for (float v : all.features()) {
                assertTrue(v >= lo && v <= hi, "pixel " + v + " outside the scaled range");
                sum += v;
            }
            double mean = sum / all.features().length;
            assertTrue(Math.abs(mean) < 0.05, "normalized mean " + mean + " is not near 0");
        }
    }
}
