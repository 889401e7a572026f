package io.accrue.cli;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;
import io.accrue.data.Tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's tokenizer ({@code gpt2}): byte-level BPE with the {@code r50k_base} ranks, V 50,257, {@code <|endoftext|>}
 * = 50,256 — through jtokkit (the Java port of OpenAI's tiktoken), which holds the ranks. Found by
 * {@link io.accrue.data.Tokenizers} through {@code META-INF/services}; the ranks load on first use.
 *
 * <p>Chunk boundaries ({@link #lastBoundary}): GPT-2's pre-tokenizer splits text with
 * {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+} and BPE merges within a
 * pre-token only. The pattern has no look-behind, so matching from a position where a pre-token ends depends on the
 * text after it alone; and the chunk before the cut must split into the same pre-tokens without the text after it,
 * where {@code (?!\S)} sees the end of the input instead. Both hold at {@code p} in two cases judged from a few
 * characters:
 * <ul>
 *   <li>{@code text[p-1]} is a letter or digit, {@code text[p]} a space and {@code text[p+1]} a letter: no alternative
 *       runs from a letter or digit into a space, and the space starts {@code " word"};</li>
 *   <li>{@code text[p-2]} is not whitespace, {@code text[p-1]} a line feed and {@code text[p]} a letter or digit: the
 *       line feed is a pre-token of its own (only a literal space may lead a word), with or without the letter
 *       after it. After more whitespace it is not: {@code "\n\n"} before a letter splits as {@code "\n", "\n"}, at
 *       the end of the input as one {@code "\n\n"}.</li>
 * </ul>
 * Letters and digits here are {@link Character#isLetter} ({@code \p{L}}) and {@link Character#isDigit} (within
 * {@code \p{N}}); whitespace is counted generously (every {@code \s} of any definition, and more), and a
 * supplementary character is never a boundary's neighbour: both only make chunks longer.
 */
public final class Gpt2Tokenizer implements Tokenizer {
    /** The name runs record. */
    public static final String NAME = "gpt2";
    /** {@code <|endoftext|>}. */
    public static final int END_OF_TEXT = 50256;

    /** The ranks, loaded when first used (about 0.3 s). */
    private static final class Ranks {
        static final Encoding R50K = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int vocabSize() {
        return 50257;
    }

    @Override
    public int[] encode(String text) {
        return Ranks.R50K.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] tokens) {
        IntArrayList list = new IntArrayList(tokens.length);
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i] < 0 || tokens[i] >= vocabSize()) {
                throw new IllegalArgumentException("token " + tokens[i] + " at " + i + " is outside GPT-2's "
                        + "vocabulary of " + vocabSize());
            }
            list.add(tokens[i]);
        }
        return new String(Ranks.R50K.decodeBytes(list), StandardCharsets.UTF_8);
    }

    @Override
    public int endOfText() {
        return END_OF_TEXT;
    }

    @Override
    public int lastBoundary(CharSequence text, int from, int limit) {
        for (int p = limit - 1; p >= Math.max(1, from); p--) {
            char before = text.charAt(p - 1);
            char at = text.charAt(p);
            if (before == '\n' && letterOrDigit(at) && p >= 2 && !space(text.charAt(p - 2))) {
                return p;
            }
            if (at == ' ' && letterOrDigit(before) && p + 1 < text.length() && Character.isLetter(text.charAt(p + 1))) {
                return p;
            }
        }
        return -1;
    }

    /** Whitespace by any definition a pre-tokenizer's {@code \s} may use (Java's, Unicode's White_Space), and more. */
    private static boolean space(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085' || c == '\u200b'
                || Character.getType(c) == Character.CONTROL || Character.getType(c) == Character.FORMAT;
    }

    private static boolean letterOrDigit(char c) {
        return Character.isLetter(c) || Character.isDigit(c);
    }
}
