package io.accrue.data;

import java.nio.charset.StandardCharsets;

/** Byte-level text: each UTF-8 byte one token (V 256), no document separator. */
public final class ByteTokenizer implements Tokenizer {
    /** The name runs record. */
    public static final String NAME = "bytes";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public int vocabSize() {
        return 256;
    }

    @Override
    public int[] encode(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xff;
        }
        return ids;
    }

    @Override
    public String decode(int[] tokens) {
        byte[] b = new byte[tokens.length];
        for (int i = 0; i < b.length; i++) {
            if (tokens[i] < 0 || tokens[i] > 255) {
                throw new IllegalArgumentException("token " + tokens[i] + " at " + i + " is not a byte (0..255)");
            }
            b[i] = (byte) tokens[i];
        }
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public int endOfText() {
        return -1;
    }

    /** Anywhere but between the two halves of a surrogate pair (one character's UTF-8 bytes). */
    @Override
    public int lastBoundary(CharSequence text, int from, int limit) {
        for (int p = limit - 1; p >= Math.max(1, from); p--) {
            if (!(Character.isHighSurrogate(text.charAt(p - 1)) && Character.isLowSurrogate(text.charAt(p)))) {
                return p;
            }
        }
        return -1;
    }
}
