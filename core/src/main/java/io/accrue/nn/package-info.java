/**
 * Layers: compositions of autograd ops whose parameters are declared in one
 * {@link io.accrue.tensor.ParameterStore}. A layer has no hand-written backward of its own.
 *
 * <p>Contract: a layer's constructor declares its parameters under a Hugging Face style name prefix; after
 * the store is allocated, {@code forward(tape, ...)} records ops on the tape. Initialisation is keyed by the
 * parameter name and the model seed (law 5), so the same config and seed give the same weights.
 */
package io.accrue.nn;
