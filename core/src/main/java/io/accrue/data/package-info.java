/**
 * Datasets and the order examples are trained in. The examples of an optimizer step are a pure function of
 * (seed, epoch, position in the epoch): {@link io.accrue.data.EpochOrder} is a keyed shuffle (law 5), a
 * window is the next N examples of that order, and it is cut into micro-batches of B in that order — so
 * every split of the same effective batch sees the same examples in the same order.
 *
 * <p>Text: a {@link io.accrue.data.Tokenizer} maps text to ids ({@code bytes} built in, others found by name through
 * {@link io.accrue.data.Tokenizers}); {@link io.accrue.data.ParallelEncoder} encodes a stream on several threads
 * with exactly the ids of encoding it whole; {@link io.accrue.data.TokenShard} memory-maps a file of ids and
 * {@link io.accrue.data.TokenWindows} reads it as windows of T+1 tokens at stride T.
 *
 * <p>{@link io.accrue.data.EnvironmentException} is a fault of the machine rather than of the input — a full disk, a
 * file changed under the running process — for every layer above to raise and the command line to report in one line.
 */
package io.accrue.data;
