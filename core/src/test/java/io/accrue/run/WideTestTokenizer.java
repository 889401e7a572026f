package io.accrue.run;

import io.accrue.data.ByteTokenizer;
import io.accrue.data.Tokenizer;

/**
 * A test tokenizer with a vocabulary beyond 65,536 (so shards are uint32) and a document separator: each code point
 * below 69,999 is its own id, any other is 69,998; end-of-text is 69,999. Registered for core's tests through
 * {@code META-INF/services}, as the command line registers GPT-2's.
 */
public final class WideTestTokenizer implements Tokenizer {
    @Override
    public String name() {
        return "test-wide";
    }

    @Override
    public int vocabSize() {
        return 70_000;
    }

    @Override
    public int[] encode(String text) {
        return text.codePoints().map(c -> Math.min(c, 69_998)).toArray();
    }

    @Override
    public String decode(int[] tokens) {
        StringBuilder sb = new StringBuilder();
        for (int t : tokens) {
            sb.appendCodePoint(t);
        }
        return sb.toString();
    }

    @Override
    public int endOfText() {
        return 69_999;
    }

    @Override
    public int lastBoundary(CharSequence text, int from, int limit) {
        return new ByteTokenizer().lastBoundary(text, from, limit);
    }
}
