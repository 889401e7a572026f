package io.accrue.data;

import io.accrue.models.FeatureBatch;

/** Feature vectors with class labels held in memory: (n, D) row-major features and n labels. */
public final class FeatureDataset implements Dataset<FeatureBatch> {
    private final float[] features;
    private final int[] labels;
    private final int width;

    public FeatureDataset(float[] features, int[] labels, int width) {
        if (width <= 0 || labels.length == 0 || features.length != (long) labels.length * width) {
            throw new IllegalArgumentException(labels.length + " labels of width " + width + " need "
                    + (long) labels.length * width + " features, got " + features.length);
        }
        this.features = features;
        this.labels = labels;
        this.width = width;
    }

    @Override
    public int size() {
        return labels.length;
    }

    public int width() {
        return width;
    }

    @Override
    public FeatureBatch batch(int[] indices) {
        int b = indices.length;
        float[] x = new float[b * width];
        int[] y = new int[b];
        long[] ids = new long[b];
        for (int i = 0; i < b; i++) {
            System.arraycopy(features, indices[i] * width, x, i * width, width);
            y[i] = labels[indices[i]];
            ids[i] = indices[i];
        }
        return new FeatureBatch(x, y, ids, b, width);
    }
}
