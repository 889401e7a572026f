package io.accrue.spark;

import io.accrue.data.Dataset;
import io.accrue.models.Model;

import java.io.Serializable;

/**
 * How an executor builds its own copy of the model and the training data; shipped to executors instead of the
 * model itself. Equal recipes must build the same model layout and the same dataset (executors cache workers by
 * recipe, see {@link Workers}).
 *
 * @param <I> the micro-batch type
 */
public interface WorkerRecipe<I> extends Serializable {

    /** A fresh model; its initial weights do not matter, they are overwritten by the broadcast ones. */
    Model<I> model();

    /** The full training set, the same examples in the same order as the driver's. */
    Dataset<I> data();
}
