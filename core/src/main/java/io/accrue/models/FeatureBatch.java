package io.accrue.models;

/**
 * A micro-batch of feature vectors with class labels.
 *
 * @param features   (B, D) row-major
 * @param labels     (B) class indices
 * @param exampleIds (B) each example's index in the dataset (keys dropout with the epoch, law 5)
 * @param batch      B
 * @param width      D
 */
public record FeatureBatch(float[] features, int[] labels, long[] exampleIds, int batch, int width) {
    public FeatureBatch {
        if (batch <= 0 || width <= 0 || features.length != batch * width || labels.length != batch
                || exampleIds.length != batch) {
            throw new IllegalArgumentException("feature batch of B=" + batch + ", D=" + width + " needs "
                    + batch * width + " features and " + batch + " labels/ids, got " + features.length + "/"
                    + labels.length + "/" + exampleIds.length);
        }
    }

    /** B examples of D zero features, label 0, example ids 0..B−1 (a placeholder for dry runs). */
    public static FeatureBatch zeros(int batch, int width) {
        long[] ids = new long[batch];
        for (int i = 0; i < batch; i++) {
            ids[i] = i;
        }
        return new FeatureBatch(new float[batch * width], new int[batch], ids, batch, width);
    }
}
