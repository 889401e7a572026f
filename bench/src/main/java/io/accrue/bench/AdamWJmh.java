package io.accrue.bench;

import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.optim.AdamW;
import io.accrue.tensor.ParameterStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * One fused {@link AdamW#step} over the whole {@link ParameterStore} of a GPT model (its real layout, so the
 * weight-decay runs are those of training), with fixed random gradients. Default: GPT small (10.7M parameters).
 */
public class AdamWJmh extends KernelBench {
    /** A {@link GptConfig#named} configuration. */
    @Param({"small"})
    public String model;

    @Param({"1", "2"})
    public int threads;

    private AdamW adamw;
    private ParameterStore store;

    @Setup
    public void setup() {
        store = new Gpt(GptConfig.named(model), SEED).parameters();
        float[] g = uniform(store.grads().length, -1e-2, 1e-2);
        System.arraycopy(g, 0, store.grads(), 0, g.length);
        adamw = new AdamW(store, compute(threads).parallel(), 0.9f, 0.95f, 1e-8f, 0.1f);
    }

    @Benchmark
    public float[] step() {
        adamw.step(3e-4f);
        return store.values();
    }
}
