/**
 * Models built from {@link io.accrue.nn} layers: {@link io.accrue.models.Mlp} for feature vectors and
 * {@link io.accrue.models.Gpt} (decoder-only transformer) for tokens, with the batch records they consume.
 * A model maps one micro-batch to a {@link io.accrue.autograd.Loss} (raw sum + count) on a tape.
 */
package io.accrue.models;
