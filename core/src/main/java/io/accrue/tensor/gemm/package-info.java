/**
 * The GEMM family: {@code C += A·B} on tensors (a linear layer's three forms) or over
 * {@link io.accrue.tensor.gemm.Matrix} views (each possibly transposed), split over a
 * {@link io.accrue.tensor.Parallel} team.
 *
 * <p>{@link io.accrue.tensor.gemm.Gemm} is the dispatcher: it chooses the form (a swapped {@code Cᵀ += Bᵀ·Aᵀ} for
 * few rows), splits the outputs into thread parts, holds packed weights for a window, and runs
 * {@link io.accrue.tensor.gemm.VectorGemm} (packed panels, a register-blocked micro-kernel) or, without the Vector
 * API, the scalar oracle {@link io.accrue.tensor.gemm.GemmReference}.
 *
 * <p>Contract (law 3): each output is one fused-multiply-add chain along k, ascending, that starts from the value in
 * C (or from the initial values {@code multiplyByWeight} is given); threads split outputs, never k; vector lanes hold
 * different outputs; k-blocks store and reload C exactly. So every path, thread count and vector width gives the
 * oracle's bits, and a weight gradient's sum over rows continues across calls: rows cut into micro-batches give the
 * bits of one call. A Gemm owns its packing buffers per thread part and serves one caller at a time.
 */
package io.accrue.tensor.gemm;
