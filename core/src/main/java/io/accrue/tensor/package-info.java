/**
 * Flat float storage, views into it, the per-micro-batch activation arena and the compute kernels.
 *
 * <p>Dimension vocabulary used in shape comments across Accrue: B (micro-batch), K (accumulation
 * steps), T (sequence), C (channels), V (vocabulary), L (layers), NH (heads), HS (head size = C / NH),
 * N (rows in a 2-D kernel call: B or B·T).
 *
 * <p>Law 1: all parameters live in one flat buffer ({@link io.accrue.tensor.ParameterStore}); their gradients
 * and each optimizer state in further buffers of the same layout. Law 3: every sum over examples is one
 * ordered fused-multiply-add chain per output that starts from the value already in the output; threads
 * split outputs, never the reduction. Law 4: activations come from an {@link io.accrue.tensor.Arena} that is
 * reset after each micro-batch; a {@link io.accrue.tensor.Arena#counting counting} arena and a
 * {@link io.accrue.tensor.ParameterStore#shapesOnly shapes-only} store hand out
 * {@link io.accrue.tensor.Tensor#unbacked unbacked} views, for dry runs that plan memory.
 */
package io.accrue.tensor;
