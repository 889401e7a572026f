package io.accrue.run;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The rows as TensorBoard scalars ({@code --tensorboard DIR}): each numeric field but {@code step} is a scalar
 * tagged by its name, at the row's step. One event file per process, {@code events.out.tfevents.<time>.<host>}, in
 * TensorBoard's record format, written by hand because the library depends on the JDK alone:
 *
 * <ul>
 *   <li>a record (TFRecord): the data's length as a little-endian uint64, the masked CRC-32C of those 8 bytes as a
 *       little-endian uint32, the data, the masked CRC-32C of the data; masked = {@code ((crc >>> 15) | (crc << 17))
 *       + 0xa282ead8};</li>
 *   <li>its data, an {@code Event} protocol buffer: {@code wall_time} (field 1, double), {@code step} (2, varint),
 *       then {@code file_version} (3, the string {@code brain.Event:2}) in the first event,
 *       {@code summary} (5) holding one {@code value} (1) per scalar — {@code tag} (1, string),
 *       {@code simple_value} (2, float) — or, where a resumed run starts, {@code session_log} (7) with
 *       {@code status} (1) = START, which tells TensorBoard to drop what a killed process logged after that step.</li>
 * </ul>
 * Each step's event is flushed as it is written, so TensorBoard shows a run live.
 */
public final class TensorBoardLogger implements MetricsLogger {
    /** The {@code file_version} of the first event, as TensorFlow's writer puts it. */
    static final String FILE_VERSION = "brain.Event:2";
    private static final int SESSION_LOG_START = 1;

    private final Path dir;
    private OutputStream out;

    public TensorBoardLogger(Path dir) {
        this.dir = dir;
    }

    @Override
    public void open(List<String> columns, long resumedAfter) throws IOException {
        Files.createDirectories(dir);
        long now = System.currentTimeMillis();
        Path file = dir.resolve("events.out.tfevents." + now / 1000 + "." + host() + "." + ProcessHandle.current().pid());
        out = Files.newOutputStream(file);
        Proto first = event(now / 1e3, 0);
        first.bytes(3, FILE_VERSION.getBytes(StandardCharsets.UTF_8));
        write(first);
        if (resumedAfter >= 0) {
            Proto start = event(now / 1e3, resumedAfter + 1);
            start.message(7, new Proto().varint(1, SESSION_LOG_START));
            write(start);
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    @Override
    public void log(Map<String, Object> row) throws IOException {
        Proto summary = new Proto();
        row.forEach((tag, v) -> {
            if (!tag.equals("step") && v instanceof Number n) {
                Proto value = new Proto();
                value.bytes(1, tag.getBytes(StandardCharsets.UTF_8));
                value.float32(2, n.floatValue());
                summary.message(1, value);
            }
        });
        Proto e = event(System.currentTimeMillis() / 1e3, ((Number) row.get("step")).longValue());
        e.message(5, summary);
        write(e);
    }

    @Override
    public void close() throws IOException {
        if (out != null) {
            out.close();
        }
    }

    private static Proto event(double wallTime, long step) {
        return new Proto().float64(1, wallTime).varint(2, step);
    }

    private void write(Proto event) throws IOException {
        out.write(record(event.toByteArray()));
        out.flush();
    }

    /** {@code data} framed as one TFRecord. */
    static byte[] record(byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(data.length);
        b.putInt(maskedCrc(b.array(), 0, 8));
        b.put(data);
        b.putInt(maskedCrc(data, 0, data.length));
        return b.array();
    }

    /** TFRecord's masked CRC-32C of {@code len} bytes of {@code a} from {@code off}. */
    static int maskedCrc(byte[] a, int off, int len) {
        CRC32C crc = new CRC32C();
        crc.update(a, off, len);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + 0xa282ead8;
    }

    /** A protocol buffer message being written: fields appended in the order given. */
    static final class Proto {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream();

        Proto varint(int field, long v) {
            key(field, 0);
            raw(v);
            return this;
        }

        Proto float64(int field, double v) {
            key(field, 1);
            little(Double.doubleToLongBits(v), 8);
            return this;
        }

        Proto float32(int field, float v) {
            key(field, 5);
            little(Float.floatToIntBits(v), 4);
            return this;
        }

        Proto bytes(int field, byte[] v) {
            key(field, 2);
            raw(v.length);
            b.writeBytes(v);
            return this;
        }

        Proto message(int field, Proto m) {
            return bytes(field, m.toByteArray());
        }

        byte[] toByteArray() {
            return b.toByteArray();
        }

        private void key(int field, int wireType) {
            raw((long) field << 3 | wireType);
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                b.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            b.write((int) v);
        }

        private void little(long v, int bytes) {
            for (int i = 0; i < bytes; i++) {
                b.write((int) (v >>> 8 * i));
            }
        }
    }
}
