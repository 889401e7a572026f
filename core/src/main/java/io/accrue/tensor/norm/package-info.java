/**
 * The norm family: layer norm's row kernels over C channels — forward (mean, rstd, the affine output), the input
 * gradient, and one row's share of the γ/β gradients — and group norm's kernels over one group (a contiguous block
 * of channels × positions), optionally fused with the ReLU after it: forward, each channel's Σdz and Σdz·x̂, and
 * the input gradient from those sums.
 *
 * <p>{@link io.accrue.tensor.norm.NormKernels} is the dispatcher and holds the scalar oracles ({@code *Scalar});
 * {@link io.accrue.tensor.norm.VectorNorm} is the Vector API body, with the oracle's bits.
 *
 * <p>Contract: a row's sums (mean, variance, the backward's two dot products) keep 8 lane partials combined in a
 * fixed order, so a row has the same bits in any batch, on any thread and path; the γ/β gradients are law 3's
 * chains, one per channel over rows ascending from the gradient buffer's value.
 */
package io.accrue.tensor.norm;
