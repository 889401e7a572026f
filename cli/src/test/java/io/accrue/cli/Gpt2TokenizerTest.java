package io.accrue.cli;

import io.accrue.data.Tokenizer;
import io.accrue.data.Tokenizers;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GPT-2's tokenizer: the ids OpenAI and Hugging Face publish, round trips, and a plain byte-pair-merge oracle over the
 * same {@code r50k_base} ranks (tiktoken's algorithm written out, with GPT-2's pre-tokenizer pattern).
 */
class Gpt2TokenizerTest {
    private final Tokenizer gpt2 = Tokenizers.byName("gpt2");

    @Test
    void foundByNameThroughTheServiceFile() {
        assertInstanceOf(Gpt2Tokenizer.class, gpt2);
        assertEquals(50257, gpt2.vocabSize());
        assertEquals(50256, gpt2.endOfText());
        assertEquals(List.of("bytes", "gpt2"), Tokenizers.names());
    }

    @Test
    void publishedIds() {
        // Hugging Face's GPT2Tokenizer documentation: a leading space changes the first token
        ids("Hello world", 15496, 995);
        ids(" Hello world", 18435, 995);
        // tiktoken's tests (test_simple, test_simple_repeated)
        ids("hello world", 31373, 995);
        ids("0", 15);
        ids("00", 405);
        ids("000", 830);
        ids("0000", 2388);
        ids("00000", 20483);
        ids("000000", 10535);
        ids("0000000", 24598);
        ids("00000000", 8269);
        ids("000000000", 10535, 830);
        ids("0000000000", 8269, 405);
        ids("0000000000000000", 25645);
        // the byte alphabet: printable ASCII '!'..'~' are ids 0..93 in order; space 220, line feed 198
        ids("!", 0);
        ids("\"", 1);
        ids(",", 11);
        ids(".", 13);
        ids("?", 30);
        ids("9", 24);
        ids(" ", 220);
        ids("\n", 198);
        ids("\n\n", 628);
        ids("Hello, world!", 15496, 11, 995, 0);
    }

    @Test
    void specialTokenSpellingIsOrdinaryText() {
        int[] ids = gpt2.encode("<|endoftext|>");
        assertEquals(-1, indexOf(ids, 50256), "encode_ordinary never yields <|endoftext|>");
        assertEquals("<|endoftext|>", gpt2.decode(ids));
        assertEquals("a<|endoftext|>b", gpt2.decode(new int[] {64, 50256, 65}));
    }

    @Test
    void decodeOfEncodeIsTheText() {
        for (String s : List.of("", "Hello world", "  leading and trailing  ", "tabs\tand\nnewlines\r\n\n",
                "naïve café — Zürich straße", "日本語のテキスト", "emoji 😀👍🏽 and 𝐀𝐁𝐂", "x² ½ Ⅻ", "\u00a0\u3000\u200b",
                "it's don't we'll 'quoted'", "1234567890 3.14159 1,000,000", TestTexts.generated(20_000, 7))) {
            assertEquals(s, gpt2.decode(gpt2.encode(s)), s.length() > 60 ? s.substring(0, 60) : s);
        }
    }

    @Test
    void cutMultiByteCharacterDecodesToReplacement() {
        int[] ids = gpt2.encode("𝐀"); // U+1D400, four UTF-8 bytes in several byte-level tokens
        assertTrue(ids.length > 1, "several tokens: " + java.util.Arrays.toString(ids));
        assertTrue(gpt2.decode(new int[] {ids[0]}).contains("\uFFFD"));
        assertEquals("𝐀", gpt2.decode(ids));
    }

    @Test
    void agreesWithThePlainBytePairMergeOracle() throws IOException {
        Oracle oracle = new Oracle();
        for (String s : List.of("Hello world", " Hello world", "hello world", "naïve café", "日本語", "😀👍🏽",
                "  two  spaces\n\n\nthree newlines", "it's we'll they've I'm you'd", "1234567890 x² ½",
                "tab\there\r\nCRLF", "\u00a0nbsp\u3000ideographic")) {
            assertArrayEquals(oracle.encode(s), gpt2.encode(s), s);
        }
        String text = TestTexts.generated(200_000, 11) + TestTexts.repository().substring(0, 200_000);
        assertArrayEquals(oracle.encode(text), gpt2.encode(text));
    }

    private void ids(String text, int... expected) {
        assertArrayEquals(expected, gpt2.encode(text), "'" + text + "'");
        assertEquals(text, gpt2.decode(expected));
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /**
     * tiktoken's byte-pair merge, plainly: split with GPT-2's pattern; each piece's UTF-8 bytes start as single
     * bytes; repeatedly merge the adjacent pair whose concatenation has the lowest rank; the ids are the ranks.
     */
    static final class Oracle {
        private static final Pattern GPT2 = Pattern.compile(
                "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                Pattern.UNICODE_CHARACTER_CLASS);
        private final Map<String, Integer> ranks = new HashMap<>();

        Oracle() throws IOException {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(Oracle.class.getResourceAsStream(
                    "/com/knuddels/jtokkit/r50k_base.tiktoken"), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.isBlank()) {
                        continue;
                    }
                    String[] parts = line.split(" ");
                    ranks.put(key(Base64.getDecoder().decode(parts[0])), Integer.parseInt(parts[1]));
                }
            }
            assertEquals(50256, ranks.size(), "r50k_base holds 50,256 ranks (plus <|endoftext|>)");
        }

        int[] encode(String text) {
            List<Integer> out = new ArrayList<>();
            Matcher m = GPT2.matcher(text);
            while (m.find()) {
                byte[] b = m.group().getBytes(StandardCharsets.UTF_8);
                List<String> parts = new ArrayList<>();
                for (byte x : b) {
                    parts.add(key(new byte[] {x}));
                }
                while (parts.size() > 1) {
                    int best = -1;
                    int bestRank = Integer.MAX_VALUE;
                    for (int i = 0; i + 1 < parts.size(); i++) {
                        Integer r = ranks.get(parts.get(i) + parts.get(i + 1));
                        if (r != null && r < bestRank) {
                            bestRank = r;
                            best = i;
                        }
                    }
                    if (best < 0) {
                        break;
                    }
                    parts.set(best, parts.get(best) + parts.get(best + 1));
                    parts.remove(best + 1);
                }
                for (String p : parts) {
                    out.add(ranks.get(p));
                }
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }

        /** Bytes as a string of chars 0..255, so concatenation is byte concatenation. */
        private static String key(byte[] b) {
            return new String(b, StandardCharsets.ISO_8859_1);
        }
    }
}
