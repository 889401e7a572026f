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

    /** Reads a label file ({@code 0x00000801}) into an int per label. */
    public static int[] readLabels(Path file) throws IOException {
        Idx idx = read(file, LABELS_MAGIC);
        int[] labels = new int[idx.data().length];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = idx.data()[i] & 0xFF;
        }
        return labels;
    }

    /**
     * Reads an image file ({@code 0x00000803}) straight into floats, pixel value v becoming {@code valueOf[v]}:
     * no copy of the file's bytes is held beside the floats (60,000 Fashion-MNIST images are 47 MB of bytes).
     */
    public static FloatImages readImages(Path file, float[] valueOf) throws IOException {
        if (valueOf.length != 256) {
            throw new IllegalArgumentException("valueOf needs one float per byte value, 256, got " + valueOf.length);
        }
        return open(file, IMAGES_MAGIC, (dims, in) -> {
            float[] pixels = new float[dims[0] * dims[1] * dims[2]];
            byte[] chunk = new byte[1 << 16];
            for (int done = 0; done < pixels.length; ) {
                int got = in.read(chunk, 0, Math.min(chunk.length, pixels.length - done));
                if (got < 0) {
                    throw truncated(file, pixels.length, done);
                }
                for (int i = 0; i < got; i++) {
                    pixels[done + i] = valueOf[chunk[i] & 0xFF];
                }
                done += got;
            }
            return new FloatImages(dims[0], dims[1], dims[2], pixels);
        });
    }

    /** Images (count, rows, cols) as floats, row-major. */
    public record FloatImages(int count, int rows, int cols, float[] pixels) {
    }

    /** Reads a file whose magic number must be {@code expectedMagic}. */
    public static Idx read(Path file, int expectedMagic) throws IOException {
        return open(file, expectedMagic, (dims, in) -> {
            byte[] data = new byte[elements(dims)];
            int got = in.readNBytes(data, 0, data.length);
            if (got < data.length) {
                throw truncated(file, data.length, got);
            }
            return new Idx(dims, data);
        });
    }

    /** The data of an IDX file after its header, read from {@code in}. */
    private interface Body<T> {
        T read(int[] dims, DataInputStream in) throws IOException;
    }

    /**
     * Opens {@code file} (gzip'd or plain), checks its header against {@code expectedMagic}, reads its data with
     * {@code body} and checks that nothing follows it.
     */
    private static <T> T open(Path file, int expectedMagic, Body<T> body) throws IOException {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b0 = raw.read();
            int b1 = raw.read();
            raw.reset();
            boolean gzip = b0 == 0x1f && b1 == 0x8b;
            try (DataInputStream in = new DataInputStream(gzip ? new GZIPInputStream(raw, 1 << 16) : raw)) {
                int[] dims = header(file, in, expectedMagic);
                T value = body.read(dims, in);
                if (in.read() >= 0) {
                    throw new IOException(file + ": size mismatch: more data than the header's " + elements(dims)
                            + " bytes");
                }
                return value;
            } catch (EOFException e) {
                throw new IOException(file + ": truncated file (" + e.getMessage() + ")");
            }
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        }
    }

    private static IOException truncated(Path file, long size, long got) {
        return new IOException(file + ": truncated file: header promises " + size + " bytes of data, found " + got);
    }

    private static int elements(int[] dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }

    /** The dimensions the header gives, after checking its magic number, each dimension and their product. */
    private static int[] header(Path file, DataInputStream in, int expectedMagic) throws IOException {
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
        return dims;
    }
}
