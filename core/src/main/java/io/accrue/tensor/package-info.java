/**
 * Flat float storage, views into it, the per-micro-batch activation arena, the thread team and the compute
 * resources; the kernels live in one sub-package per family.
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
 *
 * <p>Kernel families, each with its dispatcher, its scalar oracle and its Vector API body side by side (STYLE 6,
 * 15): {@link io.accrue.tensor.gemm} (matrix products), {@link io.accrue.tensor.attention} (per-head products and
 * causal softmax rows), {@link io.accrue.tensor.norm} (layer norm rows), {@link io.accrue.tensor.elementwise}
 * (exp, GELU, adds, column sums, cross-entropy's softmax rows) and {@link io.accrue.tensor.optimizer} (the AdamW
 * update). A dispatcher runs its vector body when {@link io.accrue.tensor.VectorApi#AVAILABLE} and its oracle
 * otherwise, with the same bits; every vector body takes its species from {@link io.accrue.tensor.Lanes}, chosen
 * once. Scratch is owned per thread part by the kernel instances a {@link io.accrue.tensor.Compute} holds,
 * allocated once; nothing is thread-local or global.
 */
package io.accrue.tensor;
