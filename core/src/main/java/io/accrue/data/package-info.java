/**
 * Datasets and the order examples are trained in. The examples of an optimizer step are a pure function of
 * (seed, epoch, position in the epoch): {@link io.accrue.data.EpochOrder} is a keyed shuffle (law 5), a
 * window is the next N examples of that order, and it is cut into micro-batches of B in that order — so
 * every split of the same effective batch sees the same examples in the same order.
 */
package io.accrue.data;
