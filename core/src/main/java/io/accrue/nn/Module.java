package io.accrue.nn;

import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;

import java.util.List;

/**
 * The module contract: a name prefix in a parameter store, and its named parameters. Forward signatures
 * differ by layer (features, token ids), so they are not part of the contract.
 */
public interface Module {

    /** The store this module's parameters live in. */
    ParameterStore store();

    /** Name prefix, e.g. {@code h.0.attn}; parameters are named {@code prefix + "." + local}. */
    String name();

    /** This module's parameters (those whose name starts with its prefix), in layout order. */
    default List<Parameter> parameters() {
        String prefix = name().isEmpty() ? "" : name() + ".";
        return store().parameters().stream().filter(p -> p.name().startsWith(prefix)).toList();
    }

    /** Joins a prefix and a local name with a dot (no dot for an empty prefix). */
    static String join(String prefix, String local) {
        return prefix.isEmpty() ? local : prefix + "." + local;
    }
}
