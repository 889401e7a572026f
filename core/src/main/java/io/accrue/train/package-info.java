/**
 * The trainer: windows of K micro-batches, one optimizer step per window, and the step boundary — the only
 * place training state changes. Order at the boundary: fold tied gradients, divide by the window's example
 * or token count (law 2), non-finite guard, clip, optimizer step, zero gradients, record the window's loss.
 */
package io.accrue.train;
