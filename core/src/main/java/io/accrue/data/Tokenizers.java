package io.accrue.data;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Tokenizers by name: {@code bytes} is built in; others are {@link Tokenizer} implementations on the class path,
 * listed in {@code META-INF/services/io.accrue.data.Tokenizer} ({@link ServiceLoader}). The library depends on the
 * JDK alone, so GPT-2's tokenizer ({@code gpt2}) comes with the {@code accrue} command line (module {@code cli}).
 */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * The tokenizer named {@code name}.
     *
     * @throws IllegalArgumentException naming the unknown tokenizer and the ones available
     */
    public static Tokenizer byName(String name) {
        if (ByteTokenizer.NAME.equals(name)) {
            return new ByteTokenizer();
        }
        for (Tokenizer t : ServiceLoader.load(Tokenizer.class, Tokenizers.class.getClassLoader())) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        String hint = "gpt2".equals(name) ? " (GPT-2's tokenizer comes with the accrue command line: run accrue, or "
                + "put accrue-cli and jtokkit on the class path)" : "";
        throw new IllegalArgumentException("--tokenizer: unknown tokenizer '" + name + "'" + hint + "; available: "
                + String.join(", ", names()));
    }

    /** The names of the tokenizers available here, sorted. */
    public static List<String> names() {
        TreeSet<String> names = new TreeSet<>();
        names.add(ByteTokenizer.NAME);
        for (Tokenizer t : ServiceLoader.load(Tokenizer.class, Tokenizers.class.getClassLoader())) {
            names.add(t.name());
        }
        return new ArrayList<>(names);
    }
}
