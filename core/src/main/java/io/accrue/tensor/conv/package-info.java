/**
 * The convolution family: the data movement around a convolution's GEMMs over a whole micro-batch — im2col into
 * one (Cin·KH·KW, N·Ho·Wo) matrix, col2im back onto the images, the copies between (N, C, S) and channel-major
 * (C, N·S) maps — and 2-D max pooling.
 *
 * <p>{@link io.accrue.tensor.conv.ConvKernels} is the dispatcher and holds the scalar oracles ({@code *Scalar});
 * {@link io.accrue.tensor.conv.VectorConv} is the Vector API body, with the oracle's bits. {@link
 * io.accrue.tensor.conv.ConvShape} is the geometry they share.
 *
 * <p>Contract: im2col, the layout copies and pooling's forward only move or compare floats, so every path gives the
 * same bits. col2im adds into each image plane in one fixed order — kernel offsets (u, v) ascending, then output
 * positions ascending — and pooling's backward adds each output's gradient to the first maximum of its window,
 * windows ascending: threads split planes (one example's channel), never one plane's additions.
 */
package io.accrue.tensor.conv;
