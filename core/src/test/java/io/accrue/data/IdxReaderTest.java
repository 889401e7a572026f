package io.accrue.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxReaderTest {
    @TempDir
    Path dir;

    /** IDX bytes: magic, dims, then {@code data}. */
    static byte[] idx(int magic, int[] dims, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        for (int d : dims) {
            out.writeInt(d);
        }
        out.write(data);
        out.flush();
        return bytes.toByteArray();
    }

    static Path gz(Path file, byte[] content) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content);
        }
        return file;
    }

    static byte[] ramp(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 37);
        }
        return b;
    }

    @Test
    void readsGzippedAndPlainImagesAndLabels() throws IOException {
        byte[] pixels = ramp(3 * 4 * 5);
        Path images = gz(dir.resolve("img.gz"), idx(IdxReader.IMAGES_MAGIC, new int[] {3, 4, 5}, pixels));
        float[] valueOf = new float[256];
        for (int v = 0; v < 256; v++) {
            valueOf[v] = v - 0.5f;
        }
        IdxReader.FloatImages im = IdxReader.readImages(images, valueOf);
        assertEquals(3, im.count());
        assertEquals(4, im.rows());
        assertEquals(5, im.cols());
        float[] expected = new float[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            expected[i] = (pixels[i] & 0xFF) - 0.5f;
        }
        assertArrayEquals(expected, im.pixels(), "each unsigned byte through the table");

        Path labels = Files.write(dir.resolve("labels"), idx(IdxReader.LABELS_MAGIC, new int[] {4},
                new byte[] {0, 9, (byte) 200, 3}));
        assertArrayEquals(new int[] {0, 9, 200, 3}, IdxReader.readLabels(labels));
    }

    @Test
    void truncatedFileNamesFileAndProblem() throws IOException {
        byte[] full = idx(IdxReader.IMAGES_MAGIC, new int[] {3, 4, 5}, ramp(60));
        Path data = gz(dir.resolve("short-data.gz"), Arrays.copyOf(full, full.length - 7));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(data, new float[256]));
        assertOneLine(e, "short-data.gz", "truncated");

        Path header = gz(dir.resolve("short-header.gz"), Arrays.copyOf(full, 9));
        e = assertThrows(IOException.class, () -> IdxReader.readImages(header, new float[256]));
        assertOneLine(e, "short-header.gz", "truncated");

        // a gzip stream cut in the middle
        byte[] zipped = Files.readAllBytes(gz(dir.resolve("whole.gz"), full));
        Path cut = Files.write(dir.resolve("cut-stream.gz"), Arrays.copyOf(zipped, zipped.length / 2));
        e = assertThrows(IOException.class, () -> IdxReader.readImages(cut, new float[256]));
        assertOneLine(e, "cut-stream.gz", "truncated");
    }

    @Test
    void wrongMagicNamesFileAndBothNumbers() throws IOException {
        Path labels = gz(dir.resolve("labels.gz"), idx(IdxReader.LABELS_MAGIC, new int[] {2}, new byte[] {1, 2}));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readImages(labels, new float[256]));
        assertOneLine(e, "labels.gz", "wrong magic number 0x00000801, expected 0x00000803");
    }

    @Test
    void extraDataIsASizeMismatch() throws IOException {
        Path labels = gz(dir.resolve("long.gz"), idx(IdxReader.LABELS_MAGIC, new int[] {2}, new byte[] {1, 2, 3}));
        IOException e = assertThrows(IOException.class, () -> IdxReader.readLabels(labels));
        assertOneLine(e, "long.gz", "size mismatch");
    }

    @Test
    void missingFashionMnistFilesSayHowToInstall() {
        IOException e = assertThrows(IOException.class, () -> FashionMnist.load(dir));
        assertOneLine(e, dir.toString(), "apt-get install dataset-fashion-mnist");
        assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
    }

    @Test
    void mismatchedCountsAreRejected() throws IOException {
        Path images = gz(dir.resolve(FashionMnist.TRAIN_IMAGES),
                idx(IdxReader.IMAGES_MAGIC, new int[] {2, 28, 28}, ramp(2 * 784)));
        Path labels = gz(dir.resolve(FashionMnist.TRAIN_LABELS), idx(IdxReader.LABELS_MAGIC, new int[] {3},
                new byte[] {1, 2, 3}));
        var e = assertThrows(IllegalArgumentException.class, () -> FashionMnist.split(images, labels));
        assertTrue(e.getMessage().contains("2 images") && e.getMessage().contains("3 labels"), e.getMessage());
    }

    @Test
    void pixelsAreScaledAndNormalized() throws IOException {
        byte[] px = new byte[784];
        px[0] = (byte) 255;
        Path images = gz(dir.resolve("i.gz"), idx(IdxReader.IMAGES_MAGIC, new int[] {1, 28, 28}, px));
        Path labels = gz(dir.resolve("l.gz"), idx(IdxReader.LABELS_MAGIC, new int[] {1}, new byte[] {7}));
        FeatureDataset d = FashionMnist.split(images, labels);
        var b = d.batch(new int[] {0});
        assertEquals((1f - FashionMnist.MEAN) / FashionMnist.STD, b.features()[0]);
        assertEquals((0f - FashionMnist.MEAN) / FashionMnist.STD, b.features()[1]);
        assertEquals(7, b.labels()[0]);
    }

    private static void assertOneLine(Exception e, String... parts) {
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "message spans lines: " + m);
        for (String p : parts) {
            assertTrue(m.contains(p), "message lacks '" + p + "': " + m);
        }
    }
}
