package io.accrue.spark;

import io.accrue.data.Dataset;
import io.accrue.models.Model;
import io.accrue.run.RunSpec;
import io.accrue.run.Task;

import java.io.Serial;
import java.util.Objects;

/**
 * A worker built from the run's own description: executors read the {@link RunSpec} (shipped as its JSON) and
 * build the same task, model layout and data as the driver — the data must be readable at the same path on every
 * executor (a shared file system, or {@code spark-submit --files} with the base name in the spec). Equal JSON, equal
 * recipe ({@link Workers} caches workers by recipe).
 */
public final class SpecRecipe implements WorkerRecipe<Object> {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String specJson;
    /** The task with its data, loaded once per executor JVM on first use. */
    private transient RunSpec spec;
    private transient Task<Object> task;

    private SpecRecipe(String specJson) {
        this.specJson = specJson;
    }

    /** The recipe of {@code spec}. */
    public static SpecRecipe of(RunSpec spec) {
        return new SpecRecipe(spec.toJson());
    }

    private synchronized Task<Object> task() {
        if (task == null) {
            spec = RunSpec.fromJson(specJson);
            @SuppressWarnings("unchecked")
            Task<Object> t = (Task<Object>) spec.loadTask();
            task = t;
        }
        return task;
    }

    @Override
    public Model<Object> model() {
        Task<Object> t = task();
        return t.model(spec.train().seed());
    }

    @Override
    public Dataset<Object> data() {
        return task().train();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SpecRecipe r && r.specJson.equals(specJson);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(specJson);
    }
}
