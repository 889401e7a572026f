package io.accrue.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Texts for tokenizer tests: generated (keyed, so the same every run) and this repository's own sources. */
final class TestTexts {
    private static final String[] WORDS = {"the", "The", "of", "and", "to", "a", "in", "is", "it's", "don't",
            "we'll", "they've", "I'm", "you'd", "she's", "naïve", "café", "Zürich", "straße", "Ελληνικά", "русский",
            "日本語", "中文", "한국어", "עברית", "العربية", "हिन्दी", "emoji😀", "👍🏽", "𝐀𝐁𝐂", "x²", "½", "Ⅻ",
            "42", "3.14159", "1,000,000", "2024-01-01", "0x1F", "007", "(parenthesis)", "[bracket]", "{brace}",
            "quote\"", "'single'", "—", "–", "…", "\u00a0nbsp", "tab\there", "a\u200bzero-width", "CamelCase",
            "snake_case", "kebab-case", "http://example.com/path?q=1&r=2", "user@example.com", "#hashtag",
            "$100", "50%", "C++", "<|endoftext|>", "<html>", "e.g.", "U.S.A.", "Mr.", "OK!", "why?", ";", ":-)"};
    private static final String[] GAPS = {" ", " ", " ", " ", " ", " ", "  ", "   ", "\n", "\n\n", "\r\n", "\t",
            " \n", "\n ", ", ", ". ", "! ", "? ", "; ", " - ", "\n\n\n", "    ", "\u3000", " \u00a0"};

    private TestTexts() {
    }

    /** About {@code chars} characters of words, numbers, punctuation and whitespace of many scripts. */
    static String generated(int chars, long seed) {
        StringBuilder sb = new StringBuilder(chars + 64);
        long h = seed;
        while (sb.length() < chars) {
            h = mix(h + 0x9e3779b97f4a7c15L);
            sb.append(WORDS[(int) Long.remainderUnsigned(h, WORDS.length)]);
            h = mix(h + 0x9e3779b97f4a7c15L);
            sb.append(GAPS[(int) Long.remainderUnsigned(h >>> 7, GAPS.length)]);
        }
        return sb.toString();
    }

    /** This repository's Java and Markdown files, concatenated in path order (about 1.3 MB). */
    static String repository() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java") || p.toString().endsWith(".md"))
                    .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/.git/"))
                    .sorted().toList()) {
                sb.append(Files.readString(f)).append('\n');
            }
        }
        return sb.toString();
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
