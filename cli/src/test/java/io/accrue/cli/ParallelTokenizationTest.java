package io.accrue.cli;

import io.accrue.data.ParallelEncoder;
import io.accrue.data.Tokenizer;
import io.accrue.data.Tokenizers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringReader;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parallel tokenization gives exactly the ids of encoding the whole text at once: {@link ParallelEncoder} cuts only
 * where GPT-2's pre-tokenizer cannot merge ({@link Gpt2Tokenizer#lastBoundary}), on a multi-megabyte text.
 */
class ParallelTokenizationTest {
    private final Tokenizer gpt2 = Tokenizers.byName("gpt2");

    @Test
    void multiMegabyteTextInChunksEqualsWholeText() throws IOException {
        String text = TestTexts.repository() + TestTexts.generated(2_000_000, 3);
        assertTrue(text.length() > 3_000_000, "a multi-megabyte text: " + text.length());
        int[] whole = gpt2.encode(text);
        for (int chunk : new int[] {ParallelEncoder.CHUNK_CHARS, 4096, 97}) {
            int[] parallel = encode(gpt2, text, 2, chunk);
            assertEquals(whole.length, parallel.length, "chunk " + chunk);
            assertArrayEquals(whole, parallel, "chunk " + chunk);
        }
    }

    @Test
    void everyBoundaryIsExactOnItsOwn() {
        String text = TestTexts.generated(300_000, 5);
        int checked = 0;
        for (int p = text.length() - 1; p > 0 && checked < 300; ) {
            int cut = gpt2.lastBoundary(text, 1, p);
            if (cut < 0) {
                break;
            }
            String a = text.substring(Math.max(0, cut - 200), cut);
            String b = text.substring(cut, Math.min(text.length(), cut + 200));
            int[] joined = concat(gpt2.encode(a), gpt2.encode(b));
            assertArrayEquals(gpt2.encode(a + b), joined, "cut at " + cut + ": '"
                    + text.substring(Math.max(0, cut - 10), cut).replace("\n", "\\n") + "|"
                    + text.substring(cut, Math.min(text.length(), cut + 10)).replace("\n", "\\n") + "' "
                    + Arrays.toString(gpt2.encode(a + b)) + " vs " + Arrays.toString(joined));
            checked++;
            p = cut - 37;
        }
        assertEquals(300, checked);
    }

    @Test
    void textWithoutBoundariesIsOneChunk() throws IOException {
        String text = "x".repeat(50_000) + "。".repeat(20_000); // no space or line feed before a letter
        assertEquals(-1, gpt2.lastBoundary(text, 1, text.length()));
        assertArrayEquals(gpt2.encode(text), encode(gpt2, text, 2, 1000));
    }

    @Test
    void emptyTextHasNoIds() throws IOException {
        assertEquals(0, encode(gpt2, "", 2, 100).length);
    }

    static int[] encode(Tokenizer t, String text, int threads, int chunk) throws IOException {
        int[][] out = {new int[0]};
        int[] n = {0};
        try (ParallelEncoder enc = new ParallelEncoder(t, threads, chunk)) {
            enc.encode(new StringReader(text), ids -> {
                if (n[0] + ids.length > out[0].length) {
                    out[0] = Arrays.copyOf(out[0], Math.max(2 * out[0].length, n[0] + ids.length));
                }
                System.arraycopy(ids, 0, out[0], n[0], ids.length);
                n[0] += ids.length;
            });
        }
        return Arrays.copyOf(out[0], n[0]);
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
