package io.accrue.data;

/**
 * Text to token ids and back: what a language model's run reads its data and prompts with. {@code bytes}
 * ({@link ByteTokenizer}, V 256) is built in; others, such as GPT-2's byte-level BPE ({@code gpt2}, V 50,257, which
 * the command line supplies), are found by name through {@link Tokenizers}.
 *
 * <p>Implementations are immutable and safe to use from several threads at once; {@link Tokenizers} finds them with
 * {@link java.util.ServiceLoader}, so each has a public no-argument constructor that does no heavy work.
 */
public interface Tokenizer {

    /** The name a run records ({@code RunSpec.tokenizer}, {@code meta.json}): {@code bytes}, {@code gpt2}. */
    String name();

    /** V: every id is in {@code [0, vocabSize)}. */
    int vocabSize();

    /**
     * The ids of {@code text} as ordinary text: a special token's spelling (GPT-2's {@code <|endoftext|>}) in it is
     * encoded like any other text, as tiktoken's {@code encode_ordinary} does.
     */
    int[] encode(String text);

    /** The text of {@code tokens}; bytes that do not form valid UTF-8 (a cut multi-byte character) become U+FFFD. */
    String decode(int[] tokens);

    /** The id that separates documents ({@code <|endoftext|>}, 50,256 for GPT-2), or -1 if there is none. */
    int endOfText();

    /**
     * The last chunk boundary in {@code [from, limit)}: the largest {@code p} there (and &gt; 0) at which
     * {@code encode(a + b) == encode(a) ++ encode(b)} for every text {@code a} ending in {@code text[..p)} and every
     * {@code b} starting with {@code text[p..]} — a position the tokenizer never merges across, judged from the
     * characters around it only ({@code text[p-1]}, {@code text[p]}, and {@code text[p+1]} when {@code p + 1 <
     * text.length()}). -1 when there is none. Parallel encoding cuts text there ({@link ParallelEncoder}).
     */
    int lastBoundary(CharSequence text, int from, int limit);
}
