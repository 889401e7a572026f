/**
 * The elementwise family (activations and the small row kernels around them): the deterministic exp, GELU and its
 * gradient, adds, column sums over rows (bias gradients), zeroing, and the softmax rows of cross-entropy (max, exp
 * sums, probabilities added into a gradient).
 *
 * <p>{@link io.accrue.tensor.elementwise.Elementwise} is the dispatcher and holds the scalar oracles ({@code
 * *Scalar}); {@link io.accrue.tensor.elementwise.VectorElementwise} is its Vector API body.
 * {@link io.accrue.tensor.elementwise.Exp} and {@link io.accrue.tensor.elementwise.VectorExp} are exp's oracle and
 * vector body, shared with the attention family's softmax rows.
 *
 * <p>Contract: every element is computed alone by a fixed sequence of IEEE-exact operations, so a value has the same
 * bits in every lane, position, path and thread; sums keep a fixed order (a column sum is one chain over rows
 * ascending, law 3; an exp sum adds its terms in column order, in double). Kernels whose vector body stages exp's
 * arguments in scratch are methods of an {@code Elementwise} instance that owns one buffer per thread part.
 */
package io.accrue.tensor.elementwise;
