/**
 * Models built from {@link io.accrue.nn} layers: {@link io.accrue.models.Mlp} for feature vectors,
 * {@link io.accrue.models.Cnn} (two convolution blocks and a linear classifier) for images given as flattened
 * feature rows, and {@link io.accrue.models.Gpt} (decoder-only transformer) for tokens, with the batch records they
 * consume.
 * A model maps one micro-batch to a {@link io.accrue.autograd.Loss} (raw sum + count) on a tape, gives a
 * placeholder micro-batch of any size for a dry run ({@link io.accrue.models.Model#planningBatch}), and can be built
 * {@code shapesOnly} (parameter shapes, no weights) for planning; a model declares how its parameters are stored in
 * files (a Gpt's {@code Conv1D} weights transposed, as Hugging Face GPT-2 has them).
 * Text generation: {@link io.accrue.models.Decoding} runs a Gpt over new positions only, against a
 * {@link io.accrue.models.KvCache} of the earlier ones (the full pass's bits), and a
 * {@link io.accrue.models.Sampler} picks each token (greedy, temperature, top-k, top-p, keyed draws).
 */
package io.accrue.models;
