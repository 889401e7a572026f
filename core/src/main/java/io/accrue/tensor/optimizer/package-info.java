/**
 * The optimizer family: the fused per-element updates the optimizers run over their flat buffers at the step
 * boundary (law 1) — the AdamW update.
 *
 * <p>{@link io.accrue.tensor.optimizer.OptimizerKernels} is the dispatcher and holds the scalar oracle ({@code
 * *Scalar}); {@link io.accrue.tensor.optimizer.VectorOptimizer} is the Vector API body, with the oracle's bits.
 *
 * <p>Contract: every element is updated alone by a fixed sequence of IEEE-exact operations (√ correctly rounded), so
 * any split of the range over threads, and either path, gives the same bits.
 */
package io.accrue.tensor.optimizer;
