/**
 * A tape of coarse ops, each with its forward and hand-written backward side by side in one class.
 *
 * <p>A training step records O(layers) entries. Backward runs them in reverse; every op only adds
 * ({@code +=}) into input gradients, so fan-out, weight tying and accumulation need no special case.
 * Parameter gradients go straight into the flat gradient buffer of the
 * {@link io.accrue.tensor.ParameterStore}; activation gradients come from the tape's
 * {@link io.accrue.tensor.Arena}. Loss ops return the raw loss SUM and the COUNT of contributing
 * examples/tokens and seed backward with 1 per contribution (law 2: the trainer divides once per step).
 *
 * <p>A tape can also plan ({@link io.accrue.autograd.DryRun}): every op allocates and records as in training,
 * then returns before its arithmetic, so a model's own forward and backward measure its arena's high-water mark
 * on a counting arena.
 */
package io.accrue.autograd;
