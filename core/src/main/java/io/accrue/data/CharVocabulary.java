package io.accrue.data;

import java.util.Arrays;

/**
 * A character-level tokenizer over a fixed alphabet: token id = position of the character in the alphabet.
 * V = the alphabet's length.
 */
public final class CharVocabulary {
    private final String alphabet;
    private final int[] ids = new int[Character.MAX_VALUE + 1];

    /** @param alphabet distinct characters; the i-th becomes token i */
    public CharVocabulary(String alphabet) {
        if (alphabet.isEmpty()) {
            throw new IllegalArgumentException("alphabet is empty");
        }
        Arrays.fill(ids, -1);
        for (int i = 0; i < alphabet.length(); i++) {
            char c = alphabet.charAt(i);
            if (ids[c] >= 0) {
                throw new IllegalArgumentException("alphabet repeats '" + c + "'");
            }
            ids[c] = i;
        }
        this.alphabet = alphabet;
    }

    /** V, the number of tokens. */
    public int size() {
        return alphabet.length();
    }

    public String alphabet() {
        return alphabet;
    }

    /** The token ids of {@code text}; every character must be in the alphabet. */
    public int[] encode(String text) {
        int[] out = new int[text.length()];
        for (int i = 0; i < out.length; i++) {
            char c = text.charAt(i);
            int id = ids[c];
            if (id < 0) {
                throw new IllegalArgumentException("character '" + c + "' at " + i + " of \"" + text
                        + "\" is not in the vocabulary \"" + alphabet + "\"");
            }
            out[i] = id;
        }
        return out;
    }

    /** The text of {@code tokens}. */
    public String decode(int[] tokens) {
        StringBuilder sb = new StringBuilder(tokens.length);
        for (int t : tokens) {
            if (t < 0 || t >= alphabet.length()) {
                throw new IllegalArgumentException("token " + t + " is outside the vocabulary of " + size());
            }
            sb.append(alphabet.charAt(t));
        }
        return sb.toString();
    }
}
