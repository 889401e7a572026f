package io.accrue.data;

/**
 * Indexed examples that can be packed into a micro-batch.
 *
 * @param <I> the micro-batch type a model consumes
 */
public interface Dataset<I> {

    /** Number of examples. */
    int size();

    /** Packs the examples at {@code indices}, in that order, into one micro-batch. */
    I batch(int[] indices);
}
