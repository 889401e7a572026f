package io.accrue.run;

import io.accrue.models.GptConfig;
import io.accrue.train.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code --model} value: a shape name ({@code adder}, {@code tiny}, {@code small}, {@code gpt2},
 * {@code gpt2-medium}) or a JSON file such as {@code {"layers":2,"heads":4,"width":128,"context":64,"vocab":256,
 * "dropout":0}} — {@code layers}, {@code heads}, {@code width} required; {@code context} (128), {@code vocab} (256)
 * and {@code dropout} (0) optional; any other key is an error.
 */
public final class ModelShapes {
    /** The default model of the addition task: 2 layers, 4 heads, width 128. */
    public static final String ADDER = "adder";
    /** The keys of a model file, in order. */
    static final List<String> KEYS = List.of("layers", "heads", "width", "context", "vocab", "dropout");
    private static final String EXAMPLE = "{\"layers\":2,\"heads\":4,\"width\":128,\"context\":64,\"vocab\":256}";

    private ModelShapes() {
    }

    /** Whether {@code value} names a file rather than a shape. */
    public static boolean isFile(String value) {
        return value.toLowerCase(Locale.ROOT).endsWith(".json") || value.contains("/") || value.contains("\\");
    }

    /**
     * The shape {@code value} names, or the one its JSON file describes.
     *
     * @throws IllegalArgumentException one line naming the unknown name, the missing or malformed file, or the bad key
     */
    public static GptConfig resolve(String value) {
        if (isFile(value)) {
            return read(Path.of(value));
        }
        if (ADDER.equalsIgnoreCase(value)) {
            return new GptConfig(2, 4, 128, 16, 12, 0f);
        }
        try {
            return GptConfig.named(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--model: unknown model '" + value + "'; use adder, tiny, small, gpt2, "
                    + "gpt2-medium or a JSON file like " + EXAMPLE);
        }
    }

    /** Reads a model file. */
    static GptConfig read(Path file) {
        String where = "--model " + file + ": ";
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(where + (Files.isDirectory(file) ? "is a directory" : "no such file")
                    + "; give a JSON model file like " + EXAMPLE + " or a model name");
        }
        Object parsed;
        try {
            parsed = Json.parse(Files.readString(file));
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new IllegalArgumentException(where + "cannot read (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + "malformed JSON (" + e.getMessage() + "); write an object like "
                    + EXAMPLE);
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException(where + "not a JSON object; write an object like " + EXAMPLE);
        }
        Map<String, Object> j = new LinkedHashMap<>();
        map.forEach((k, v) -> j.put((String) k, v));
        for (String key : j.keySet()) {
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException(where + "unknown key '" + key + "'; use " + String.join(", ", KEYS));
            }
        }
        int layers = integer(where, j, "layers", null);
        int heads = integer(where, j, "heads", null);
        int width = integer(where, j, "width", null);
        int context = integer(where, j, "context", 128);
        int vocab = integer(where, j, "vocab", 256);
        float dropout = (float) dropout(where, j);
        try {
            return new GptConfig(layers, heads, width, context, vocab, dropout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + e.getMessage());
        }
    }

    private static int integer(String where, Map<String, Object> j, String key, Integer fallback) {
        Object v = j.get(key);
        if (v == null) {
            if (fallback == null) {
                throw new IllegalArgumentException(where + "missing key '" + key + "'; layers, heads and width are required");
            }
            return fallback;
        }
        if (!(v instanceof Long l) || l.intValue() != l) {
            throw new IllegalArgumentException(where + "'" + key + "' must be an integer, got " + v);
        }
        return l.intValue();
    }

    private static double dropout(String where, Map<String, Object> j) {
        Object v = j.get("dropout");
        if (v == null) {
            return 0;
        }
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException(where + "'dropout' must be a number, got " + v);
        }
        return n.doubleValue();
    }
}
