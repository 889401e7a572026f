package io.accrue.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The safetensors file format (Hugging Face): an 8-byte little-endian header length n, n bytes of JSON header
 * {@code {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...}}
 * padded with spaces to a multiple of 8, then the raw little-endian data; offsets are relative to the start of the
 * data and tensors are stored back to back in header order. Written tensors are F32; read ones may also be F16 or
 * BF16 (converted to F32 exactly: every such value is a float). A header may describe tensors of any of the format's
 * dtypes ({@link #ELEMENT_BYTES}); reading one of another dtype into floats is refused.
 *
 * <p>A tensor can be written <em>transposed</em>: the source holds a row-major (R, C) matrix, the file holds its
 * (C, R) transpose. Reading with the same flag transposes back.
 */
public final class SafeTensors {
    private static final int CHUNK = 1 << 16; // floats per I/O buffer
    private static final long MAX_HEADER = 100L << 20;
    /** Bytes per element of each dtype the format defines. */
    private static final Map<String, Integer> ELEMENT_BYTES = Map.ofEntries(Map.entry("F64", 8), Map.entry("F32", 4),
            Map.entry("F16", 2), Map.entry("BF16", 2), Map.entry("I64", 8), Map.entry("I32", 4), Map.entry("I16", 2),
            Map.entry("I8", 1), Map.entry("U8", 1), Map.entry("BOOL", 1), Map.entry("U16", 2), Map.entry("U32", 4),
            Map.entry("U64", 8), Map.entry("F8_E4M3", 1), Map.entry("F8_E5M2", 1));
    /** The dtypes {@link #read} converts to floats. */
    private static final Set<String> FLOAT_DTYPES = Set.of("F32", "F16", "BF16");

    private SafeTensors() {
    }

    /**
     * A tensor to write, or the destination of one to read.
     *
     * @param name       the tensor's name in the file
     * @param shape      the shape of the source (the file's shape is its transpose when {@code transposed})
     * @param data       flat storage
     * @param offset     the tensor's start in {@code data}
     * @param transposed whether the file holds the transpose of this 2-D source
     */
    public record Entry(String name, int[] shape, float[] data, int offset, boolean transposed) {
        public Entry {
            if (transposed && shape.length != 2) {
                throw new IllegalArgumentException(name + ": only a 2-D tensor can be stored transposed, shape "
                        + Arrays.toString(shape));
            }
        }

        /** The shape as stored in the file. */
        public int[] fileShape() {
            return transposed ? new int[] {shape[1], shape[0]} : shape.clone();
        }

        long size() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /**
     * A tensor described by a file's header.
     *
     * @param name  its name
     * @param dtype its element type as the file names it ({@code F32}, {@code F16}, {@code BF16}, {@code I64}, …)
     * @param shape its shape in the file
     * @param begin first byte, relative to the data section
     * @param end   one past the last byte, relative to the data section
     */
    public record Stored(String name, String dtype, int[] shape, long begin, long end) {
    }

    /**
     * A parsed header.
     *
     * @param metadata   the {@code __metadata__} map (empty if absent)
     * @param tensors    the tensors in order of their offsets
     * @param dataStart  the file offset of the data section (8 + header length)
     */
    public record Header(Map<String, String> metadata, List<Stored> tensors, long dataStart) {
        public Stored tensor(String name) {
            for (Stored t : tensors) {
                if (t.name().equals(name)) {
                    return t;
                }
            }
            return null;
        }
    }

    /** Writes {@code entries} to {@code file} (created or truncated) and forces it to disk. */
    public static void write(Path file, Map<String, String> metadata, List<Entry> entries) throws IOException {
        StringBuilder json = new StringBuilder("{");
        json.append(Json.quote("__metadata__")).append(':').append(Json.object(metadata));
        long offset = 0;
        for (Entry e : entries) {
            long bytes = e.size() * Float.BYTES;
            json.append(',').append(Json.quote(e.name())).append(":{\"dtype\":\"F32\",\"shape\":[");
            int[] fs = e.fileShape();
            for (int d = 0; d < fs.length; d++) {
                json.append(d > 0 ? "," : "").append(fs[d]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        json.append('}');
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(header);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, head);
            ByteBuffer buf = ByteBuffer.allocate(CHUNK * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                long n = e.size();
                int cols = e.shape().length == 2 ? e.shape()[1] : 1;
                int rows = e.shape().length == 2 ? e.shape()[0] : 1;
                for (long k = 0; k < n; k++) {
                    long src;
                    if (e.transposed()) {
                        long c = k / rows; // file row = source column
                        long r = k % rows;
                        src = r * cols + c;
                    } else {
                        src = k;
                    }
                    buf.putFloat(e.data()[e.offset() + (int) src]);
                    if (!buf.hasRemaining()) {
                        buf.flip();
                        writeFully(ch, buf);
                        buf.clear();
                    }
                }
            }
            buf.flip();
            writeFully(ch, buf);
            ch.force(true);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * Reads and validates the header of {@code file}: length within the file, JSON shape, known dtypes, offsets
     * matching shapes, inside the data section and back to back.
     *
     * @throws CheckpointException naming the file and the problem
     */
    public static Header header(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(file, "truncated: " + size + " bytes, shorter than the 8-byte header"
                        + " length");
            }
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, len, 0, file);
            long n = len.flip().getLong();
            if (n <= 1 || n > MAX_HEADER) {
                throw new CheckpointException(file, "not a safetensors file (header length " + n + ")");
            }
            if (8 + n > size) {
                throw new CheckpointException(file, "truncated: header of " + n + " bytes but the file has "
                        + size);
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8, file);
            Object parsed;
            try {
                parsed = Json.parse(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException ex) {
                throw new CheckpointException(file, "not a safetensors file (header is not JSON: " + ex.getMessage()
                        + ")");
            }
            if (!(parsed instanceof Map<?, ?> map)) {
                throw new CheckpointException(file, "not a safetensors file (header is not a JSON object)");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            List<Stored> tensors = new ArrayList<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String name = (String) e.getKey();
                if (name.equals("__metadata__")) {
                    if (!(e.getValue() instanceof Map<?, ?> meta)) {
                        throw new CheckpointException(file, "__metadata__ is not an object");
                    }
                    meta.forEach((k, v) -> metadata.put((String) k, String.valueOf(v)));
                    continue;
                }
                tensors.add(stored(file, name, e.getValue()));
            }
            tensors.sort((a, b) -> Long.compare(a.begin(), b.begin()));
            long at = 0;
            for (Stored t : tensors) {
                if (t.begin() != at) {
                    throw new CheckpointException(file, "tensor '" + t.name() + "' starts at " + t.begin()
                            + ", expected " + at + " (overlap or hole in the data)");
                }
                at = t.end();
            }
            if (8 + n + at != size) {
                throw new CheckpointException(file, (8 + n + at > size ? "truncated" : "trailing bytes") + ": the "
                        + "header describes " + (8 + n + at) + " bytes, the file has " + size);
            }
            return new Header(metadata, tensors, 8 + n);
        } catch (IOException ex) {
            throw new CheckpointException(file, "cannot read (" + ex.getMessage() + ")");
        }
    }

    private static Stored stored(Path file, String name, Object v) {
        if (!(v instanceof Map<?, ?> t) || !(t.get("shape") instanceof List<?> shape)
                || !(t.get("data_offsets") instanceof List<?> offs) || offs.size() != 2) {
            throw new CheckpointException(file, "tensor '" + name + "' lacks dtype/shape/data_offsets");
        }
        if (!(t.get("dtype") instanceof String dtype) || !ELEMENT_BYTES.containsKey(dtype)) {
            throw new CheckpointException(file, "tensor '" + name + "' has an unknown dtype " + t.get("dtype"));
        }
        int[] dims = new int[shape.size()];
        long count = 1;
        for (int d = 0; d < dims.length; d++) {
            if (!(shape.get(d) instanceof Long x) || x < 0 || x > Integer.MAX_VALUE) {
                throw new CheckpointException(file, "tensor '" + name + "' has a bad shape " + shape);
            }
            dims[d] = x.intValue();
            count *= x;
        }
        if (!(offs.get(0) instanceof Long begin) || !(offs.get(1) instanceof Long end) || begin < 0
                || end - begin != count * ELEMENT_BYTES.get(dtype)) {
            throw new CheckpointException(file, "tensor '" + name + "' has data_offsets " + offs
                    + " that do not match its shape " + shape + " of " + dtype);
        }
        return new Stored(name, dtype, dims, begin, end);
    }

    /**
     * Reads tensor {@code stored} of {@code file} into {@code into} (whose shape must equal the stored shape, or its
     * transpose when {@code into.transposed()}), converting F16 and BF16 to F32.
     *
     * @throws CheckpointException for another shape, or a dtype that is not F32, F16 or BF16
     */
    public static void read(Path file, Header header, Stored stored, Entry into) {
        if (!Arrays.equals(stored.shape(), into.fileShape())) {
            throw new CheckpointException(file, "tensor '" + stored.name() + "' has shape "
                    + Arrays.toString(stored.shape()) + ", the model expects " + Arrays.toString(into.fileShape())
                    + " (a checkpoint of a different model?)");
        }
        if (!FLOAT_DTYPES.contains(stored.dtype())) {
            throw new CheckpointException(file, "tensor '" + stored.name() + "' has dtype " + stored.dtype()
                    + "; weights are read from F32, F16 or BF16");
        }
        int width = ELEMENT_BYTES.get(stored.dtype());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long n = into.size();
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(CHUNK, n) * width).order(ByteOrder.LITTLE_ENDIAN);
            int cols = into.shape().length == 2 ? into.shape()[1] : 1;
            int rows = into.shape().length == 2 ? into.shape()[0] : 1;
            long pos = header.dataStart() + stored.begin();
            long k = 0;
            while (k < n) {
                int chunk = (int) Math.min(CHUNK, n - k);
                buf.clear().limit(chunk * width);
                readFully(ch, buf, pos, file);
                pos += (long) chunk * width;
                buf.flip();
                for (int j = 0; j < chunk; j++, k++) {
                    long dst = into.transposed() ? (k % rows) * cols + k / rows : k;
                    into.data()[into.offset() + (int) dst] = switch (stored.dtype()) {
                        case "F16" -> Float.float16ToFloat(buf.getShort());
                        case "BF16" -> Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
                        default -> buf.getFloat();
                    };
                }
            }
        } catch (IOException ex) {
            throw new CheckpointException(file, "cannot read (" + ex.getMessage() + ")");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position, Path file) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            int r = ch.read(b, p);
            if (r < 0) {
                throw new CheckpointException(file, "truncated at byte " + p);
            }
            p += r;
        }
    }
}
