package io.accrue.models;

import io.accrue.nn.NormKind;

import java.util.List;

/**
 * Configuration of an {@link Mlp}: inputs → hidden layers (linear, norm, ReLU, dropout) → class logits.
 *
 * @param inputs  D, the feature width
 * @param hidden  widths of the hidden layers
 * @param classes number of output classes
 * @param norm    normalization after each hidden linear layer
 * @param groups  groups for {@link NormKind#GROUP}
 * @param dropout dropout probability after each hidden activation, in [0, 1)
 * @param seed    initialisation seed
 */
public record MlpConfig(int inputs, List<Integer> hidden, int classes, NormKind norm, int groups, float dropout,
                        long seed) {
    public MlpConfig {
        if (inputs <= 0) {
            throw new IllegalArgumentException("inputs must be positive, got " + inputs);
        }
        if (classes <= 1) {
            throw new IllegalArgumentException("classes must be at least 2, got " + classes);
        }
        hidden = List.copyOf(hidden);
        for (int h : hidden) {
            if (h <= 0) {
                throw new IllegalArgumentException("hidden widths must be positive, got " + hidden);
            }
            if (norm == NormKind.GROUP && (groups <= 0 || h % groups != 0)) {
                throw new IllegalArgumentException("hidden width " + h + " is not divisible into groups=" + groups);
            }
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
    }
}
