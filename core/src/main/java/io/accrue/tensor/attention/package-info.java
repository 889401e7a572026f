/**
 * The attention family: the kernels of causal self-attention for one (example, head) pair — a register-blocked
 * product with causal bands about a diagonal that a block of rows or of p shifts, copies and a transpose of a head's
 * rows, and the causal softmax rows forward (saving each row's max and 1/Σ), rebuilt from those, and backward.
 *
 * <p>{@link io.accrue.tensor.attention.AttentionKernels} is the dispatcher and holds the scalar oracles ({@code
 * *Scalar}); {@link io.accrue.tensor.attention.VectorAttention} is the Vector API body, with the oracle's bits.
 *
 * <p>Contract: every output has one evaluation order fixed by its own indices and the sizes, never by the batch,
 * the thread count or the path — each product output one fma chain along p ascending from C's value or +0; each row
 * sum 8 lane partials combined in a fixed order, then the tail in ascending order. Exp is the elementwise family's
 * deterministic {@link io.accrue.tensor.elementwise.Exp}.
 */
package io.accrue.tensor.attention;
