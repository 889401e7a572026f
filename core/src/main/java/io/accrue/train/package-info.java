/**
 * The trainer: windows of K micro-batches, one optimizer step per window, and the step boundary — the only
 * place training state changes. Order at the boundary: fold tied gradients, divide by the window's example
 * or token count (law 2), non-finite guard, clip, optimizer step, zero gradients, record the window's loss.
 *
 * <p>{@link io.accrue.train.MemoryPlanner} predicts a run's peak memory before training, for any
 * {@link io.accrue.models.Model}: the flat buffers from the parameter store's sizes, the activation arena's
 * high-water mark and the weights held packed for a window from a dry run of one micro-batch on a planning tape
 * ({@link io.accrue.autograd.DryRun}), exactly what the trainer's arena then measures.
 * {@link io.accrue.train.Checkpoint} writes each parameter in the layout its model declared
 * ({@link io.accrue.tensor.Parameter#storedTransposed}), atomically, keeping the last two. A checkpoint may also be
 * taken between two micro-batches of an open window ({@link io.accrue.train.Trainer#pause()},
 * {@link io.accrue.train.Trainer#stop()}): it then holds the window's gradient sums, loss sum, count and position
 * ({@link io.accrue.train.TrainerState}), and a resumed trainer continues the same chains.
 */
package io.accrue.train;
