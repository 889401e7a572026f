/**
 * Optimizers, learning-rate schedules, gradient clipping and the seed function {@link
 * io.accrue.optim.Gradients#accumulate}: everything the step boundary does to the flat buffers of a {@link
 * io.accrue.tensor.ParameterStore}.
 *
 * <p>Contract. The trainer calls, once per optimizer step and in this order: fold tied gradients,
 * normalize the gradient sum by the example count once (law 2) and check it is finite,
 * {@link io.accrue.optim.GradClip#clipGlobalNorm}, {@link io.accrue.optim.Optimizer#step} with the rate
 * from an {@link io.accrue.optim.LrSchedule}, then zero the gradients. Optimizers read and write only
 * elements {@code [0, store.size())} of the value and gradient buffers; their state ({@code m}, {@code v}, a
 * momentum buffer) lives in further flat buffers of the same layout (law 1), so a step is one fused
 * elementwise pass that the thread team may split anywhere and stay bit-exact. The one reduction here, the
 * global gradient norm, is summed in double over fixed-size chunks combined in a fixed order, so it gives
 * the same bits for every thread count.
 */
package io.accrue.optim;
