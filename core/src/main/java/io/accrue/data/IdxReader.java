package io.accrue.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads unsigned-byte IDX files (the MNIST format), gzip'd or plain: a big-endian magic number
 * {@code 0x000008DD} (type 0x08 = unsigned byte, DD dimensions), DD big-endian int dimensions, then the bytes in
 * row-major order. Labels are {@code 0x00000801} (count), images {@code 0x00000803} (count, rows, cols).
 *
 * <p>A truncated file, a wrong magic number or data of the wrong size throws an {@link IOException} whose one-line
 * message names the file and the problem.
 */
public final class IdxReader {
    /** Magic number of a label file: unsigned bytes, 1 dimension. */
    public static final int LABELS_MAGIC = 0x00000801;
    /** Magic number of an image file: unsigned bytes, 3 dimensions. */
    public static final int IMAGES_MAGIC = 0x00000803;

    private IdxReader() {
    }

    /**
     * An IDX array of unsigned bytes.
     *
     * @param dims the dimensions, outermost first
     * @param data the values, row-major, {@code data[i] & 0xFF} is element i
     */
    public record Idx(int[] dims, byte[] data) {
    }

    /** Images (count, rows, cols). */
    public record Images(int count, int rows, int cols, byte[] pixels) {
    }

    /** Reads a label file ({@code 0x00000801}) into an int per label. */
    public static int[] readLabels(Path file) throws IOException {
        Idx idx = read(file, LABELS_MAGIC);
        int[] labels = new int[idx.data().length];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = idx.data()[i] & 0xFF;
        }
        return labels;
    }

    /** Reads an image file ({@code 0x00000803}). */
    public static Images readImages(Path file) throws IOException {
        Idx idx = read(file, IMAGES_MAGIC);
        return new Images(idx.dims()[0], idx.dims()[1], idx.dims()[2], idx.data());
    }

    /** Reads a file whose magic number must be {@code expectedMagic}. */
    public static Idx read(Path file, int expectedMagic) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            boolean gzip = b0 == 0x1f && b1 == 0x8b;
            try (DataInputStream in = new DataInputStream(gzip ? new GZIPInputStream(raw, 1 << 16) : raw)) {
                return parse(file, in, expectedMagic);
            } catch (EOFException e) {
                throw new IOException(file + ": truncated file (" + e.getMessage() + ")");
            }
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        }
    }

    private static Idx parse(Path file, DataInputStream in, int expectedMagic) throws IOException {
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException e) {
            throw new IOException(file + ": truncated file: no IDX header");
        }
        if (magic != expectedMagic) {
            throw new IOException(String.format("%s: wrong magic number 0x%08X, expected 0x%08X (%s)", file, magic,
                    expectedMagic, expectedMagic == LABELS_MAGIC ? "labels" : "images"));
        }
        int[] dims = new int[magic & 0xFF];
        long size = 1;
        for (int d = 0; d < dims.length; d++) {
            try {
                dims[d] = in.readInt();
            } catch (EOFException e) {
                throw new IOException(file + ": truncated file: header ends before dimension " + (d + 1) + " of "
                        + dims.length);
            }
            if (dims[d] <= 0) {
                throw new IOException(file + ": dimension " + (d + 1) + " is " + dims[d] + ", must be positive");
            }
            size *= dims[d];
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new IOException(file + ": " + size + " elements are too many for one array");
        }
        byte[] data = new byte[(int) size];
        int got = in.readNBytes(data, 0, data.length);
        if (got < data.length) {
            throw new IOException(file + ": truncated file: header promises " + size + " bytes of data, found " + got);
        }
        if (in.read() >= 0) {
            throw new IOException(file + ": size mismatch: more data than the header's " + size + " bytes");
        }
        return new Idx(dims, data);
    }
}
