/**
 * The convolution family: the data movement around a convolution's GEMMs over a whole micro-batch — im2col into
 * one (Cin·KH·KW, N·Ho·Wo) matrix, col2im back onto the images, the copies between (N, C, S) and channel-major
 * (C, N·S) maps — and 2-D max pooling.
 *
 * <p>{@link io.accrue.tensor.conv.ConvKernels} is the dispatcher and holds the scalar oracles ({@code *Scalar})
 * beside the fast paths, which give the oracles' bits: whole-row copies ({@link System#arraycopy}) where the oracle
 * moves one element at a time, whole-row adds on the elementwise family's vector body, an unrolled 2×2 pooling
 * window. The family has no Vector API body of its own: its arithmetic is the GEMM's. {@link
 * io.accrue.tensor.conv.ConvShape} is the geometry they share.
 *
 * <p>Contract: im2col, the layout copies and pooling's forward only move or compare floats, so every path gives the
 * same bits. col2im adds into each image plane in one fixed order — kernel offsets (u, v) ascending, then output
 * positions ascending — and pooling's backward adds each output's gradient to the first maximum of its window,
 * windows ascending: threads split planes (one example's channel), never one plane's additions.
 */
package io.accrue.tensor.conv;
