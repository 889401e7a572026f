package io.accrue.models;

import java.util.Locale;

/**
 * Shape of a {@link Gpt}: L layers, NH heads, C width, T context, V vocabulary, dropout probability.
 *
 * @param layers  L
 * @param heads   NH (C must be divisible by NH)
 * @param width   C
 * @param context T, the longest sequence
 * @param vocab   V
 * @param dropout dropout after embeddings, attention projection and MLP, in [0, 1)
 */
public record GptConfig(int layers, int heads, int width, int context, int vocab, float dropout) {

    public GptConfig {
        positive("layers", layers);
        positive("heads", heads);
        positive("width", width);
        positive("context", context);
        positive("vocab", vocab);
        if (width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " is not divisible by heads " + heads);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
    }

    private static void positive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field + " must be positive, got " + value);
        }
    }

    /**
     * A named configuration: {@code tiny} (2/4/128, T 128, V 256), {@code small} (6/6/384, T 256, V 65),
     * {@code gpt2} (12/12/768, T 1024, V 50257, 124M) or {@code gpt2-medium} (24/16/1024, T 1024, V 50257, 355M);
     * the same shapes as the PyTorch reference benchmark.
     */
    public static GptConfig named(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "tiny" -> new GptConfig(2, 4, 128, 128, 256, 0f);
            case "small" -> new GptConfig(6, 6, 384, 256, 65, 0f);
            case "gpt2" -> new GptConfig(12, 12, 768, 1024, 50257, 0f);
            case "gpt2-medium" -> new GptConfig(24, 16, 1024, 1024, 50257, 0f);
            default -> throw new IllegalArgumentException("unknown model '" + name
                    + "'; use tiny, small, gpt2 or gpt2-medium");
        };
    }

    public GptConfig withVocab(int v) {
        return new GptConfig(layers, heads, width, context, v, dropout);
    }

    public GptConfig withContext(int t) {
        return new GptConfig(layers, heads, width, t, vocab, dropout);
    }

    public GptConfig withDropout(float p) {
        return new GptConfig(layers, heads, width, context, vocab, p);
    }

    /** Parameter count: embeddings, L blocks, final norm (the tied head adds none). */
    public long parameterCount() {
        long c = width;
        long block = 2 * 2 * c + (3 * c * c + 3 * c) + (c * c + c) + (4 * c * c + 4 * c) + (4 * c * c + c);
        return (long) vocab * c + (long) context * c + layers * block + 2 * c;
    }
}
