package io.accrue.run;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CSV and TensorBoard loggers: what they write, decoded here — TensorBoard's records frame by frame with their
 * checksums, each event's protocol buffer field by field.
 */
class MetricsLoggersTest {
    @TempDir
    Path tmp;

    private static final List<String> COLUMNS = MetricsSchema.columns("tokens_per_s", "val_loss", Set.of());

    private static Map<String, Object> row(long step, double loss, Double valLoss) {
        Map<String, Object> extra = new LinkedHashMap<>();
        if (valLoss != null) {
            extra.put("val_loss", valLoss);
        }
        Map<String, Object> row = MetricsSchema.row(MetricsSchemaTest.report(loss, 1.5), step / 4.0, "tokens_per_s",
                extra);
        row.put("step", step);
        return row;
    }

    @Test
    void csvHasAHeaderEmptyCellsAndKeepsTheStepsBeforeAResume() throws IOException {
        Path file = tmp.resolve("m.csv");
        try (CsvLogger csv = new CsvLogger(file)) {
            csv.open(COLUMNS, -1);
            for (long s = 1; s <= 4; s++) {
                csv.log(row(s, s == 3 ? Double.NaN : 2.0 / s, s == 4 ? 1.75 : null));
            }
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(String.join(",", COLUMNS), lines.get(0));
        assertEquals(5, lines.size());
        assertTrue(lines.get(1).startsWith("1,0.25,2.0,0.003,1.5,false,16,64,0.5,128.0,61.5,"), lines.get(1));
        assertTrue(lines.get(1).endsWith(",83886080,"), "no val_loss on step 1: " + lines.get(1));
        assertTrue(lines.get(3).startsWith("3,0.75,NaN,"), lines.get(3));
        assertTrue(lines.get(4).endsWith(",83886080,1.75"), lines.get(4));

        Files.writeString(file, "5,1.2", java.nio.file.StandardOpenOption.APPEND); // cut off by a kill
        try (CsvLogger csv = new CsvLogger(file)) {
            csv.open(COLUMNS, 2); // the checkpoint was after step 2
            csv.log(row(3, 0.5, null));
        }
        List<String> resumed = Files.readAllLines(file);
        assertEquals(List.of(lines.get(0), lines.get(1), lines.get(2)), resumed.subList(0, 3));
        assertEquals(4, resumed.size());
        assertTrue(resumed.get(3).startsWith("3,0.75,0.5,"), resumed.get(3));
    }

    @Test
    void tensorBoardEventsDecodeToTheScalarsWritten() throws IOException {
        Path dir = tmp.resolve("tb");
        try (TensorBoardLogger tb = new TensorBoardLogger(dir)) {
            tb.open(COLUMNS, -1);
            tb.log(row(1, 2.0, null));
            tb.log(row(2, Double.NaN, 1.75));
        }
        List<Event> events = events(dir);
        assertEquals(3, events.size());
        assertEquals(TensorBoardLogger.FILE_VERSION, events.get(0).fileVersion);
        assertEquals(0, events.get(0).step);
        assertTrue(Math.abs(events.get(0).wallTime - System.currentTimeMillis() / 1e3) < 600, "seconds since 1970");

        Event first = events.get(1);
        assertEquals(1, first.step);
        assertEquals(List.of("epoch", "loss", "learning_rate", "grad_norm", "examples", "count", "step_time_s",
                "tokens_per_s", "elapsed_s", "memory_bytes", "heap_used_bytes"), List.copyOf(first.scalars.keySet()),
                "every numeric field but the step, in order; not the boolean");
        assertEquals(2.0f, first.scalars.get("loss"));
        assertEquals(0.003f, first.scalars.get("learning_rate"));
        assertEquals(0.25f, first.scalars.get("epoch"));
        Event second = events.get(2);
        assertEquals(2, second.step);
        assertTrue(Float.isNaN(second.scalars.get("loss")), "TensorBoard takes NaN as it is");
        assertEquals(1.75f, second.scalars.get("val_loss"));
    }

    @Test
    void aResumedRunsEventFileStartsASessionAtTheNextStep() throws IOException {
        Path dir = tmp.resolve("tb");
        try (TensorBoardLogger tb = new TensorBoardLogger(dir)) {
            tb.open(COLUMNS, 6);
            tb.log(row(7, 1.0, null));
        }
        List<Event> events = events(dir);
        assertEquals(3, events.size());
        assertEquals(7, events.get(1).step);
        assertEquals(1, events.get(1).sessionStatus, "SessionLog.START: TensorBoard drops later steps logged before");
        assertEquals(7, events.get(2).step);
    }

    @Test
    void aRecordIsFramedWithMaskedCrc32cs() {
        assertEquals(0xE3069283, crc32c("123456789".getBytes(StandardCharsets.US_ASCII)), "CRC-32C's check value");
        byte[] rec = TensorBoardLogger.record("abc".getBytes(StandardCharsets.US_ASCII));
        ByteBuffer b = ByteBuffer.wrap(rec).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(3, b.getLong());
        assertEquals(maskOf(new byte[] {3, 0, 0, 0, 0, 0, 0, 0}), b.getInt());
        byte[] data = new byte[3];
        b.get(data);
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), data);
        assertEquals(maskOf(data), b.getInt());
        assertEquals(0, b.remaining());
    }

    /** TFRecord's mask of the CRC-32C: rotated right by 15 bits, plus a constant. */
    private static int maskOf(byte[] data) {
        int crc = crc32c(data);
        return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
    }

    /** CRC-32C from its definition (reflected polynomial 0x82F63B78), independent of the JDK's. */
    private static int crc32c(byte[] data) {
        int crc = ~0;
        for (byte x : data) {
            crc ^= x & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc >>> 1) ^ (0x82F63B78 & -(crc & 1));
            }
        }
        return ~crc;
    }

    /** One decoded {@code Event}. */
    private static final class Event {
        double wallTime;
        long step;
        String fileVersion;
        long sessionStatus = -1;
        final Map<String, Float> scalars = new LinkedHashMap<>();
    }

    /** The events of the one event file in {@code dir}, each record's length and data checked against its CRC. */
    private static List<Event> events(Path dir) throws IOException {
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.toList();
        }
        assertEquals(1, files.size(), files.toString());
        assertTrue(files.getFirst().getFileName().toString().startsWith("events.out.tfevents."), files.toString());
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(files.getFirst())).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (b.hasRemaining()) {
            byte[] len = new byte[8];
            b.get(len);
            assertEquals(maskOf(len), b.getInt(), "length CRC");
            byte[] data = new byte[(int) ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong()];
            b.get(data);
            assertEquals(maskOf(data), b.getInt(), "data CRC");
            events.add(event(new Reader(data)));
        }
        return events;
    }

    private static Event event(Reader r) {
        Event e = new Event();
        while (r.more()) {
            long key = r.varint();
            switch ((int) key) {
                case 1 << 3 | 1 -> e.wallTime = Double.longBitsToDouble(r.fixed(8));
                case 2 << 3 -> e.step = r.varint();
                case 3 << 3 | 2 -> e.fileVersion = new String(r.bytes(), StandardCharsets.UTF_8);
                case 5 << 3 | 2 -> {
                    Reader summary = new Reader(r.bytes());
                    while (summary.more()) {
                        assertEquals(1 << 3 | 2, summary.varint(), "Summary.value");
                        Reader value = new Reader(summary.bytes());
                        assertEquals(1 << 3 | 2, value.varint(), "Value.tag");
                        String tag = new String(value.bytes(), StandardCharsets.UTF_8);
                        assertEquals(2 << 3 | 5, value.varint(), "Value.simple_value");
                        e.scalars.put(tag, Float.intBitsToFloat((int) value.fixed(4)));
                    }
                }
                case 7 << 3 | 2 -> {
                    Reader log = new Reader(r.bytes());
                    assertEquals(1 << 3, log.varint(), "SessionLog.status");
                    e.sessionStatus = log.varint();
                }
                default -> throw new AssertionError("unexpected field key " + key);
            }
        }
        return e;
    }

    /** Reads protocol buffer wire format. */
    private static final class Reader {
        private final byte[] a;
        private int i;

        Reader(byte[] a) {
            this.a = a;
        }

        boolean more() {
            return i < a.length;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                byte x = a[i++];
                v |= (long) (x & 0x7F) << shift;
                if (x >= 0) {
                    return v;
                }
            }
        }

        long fixed(int bytes) {
            long v = 0;
            for (int k = 0; k < bytes; k++) {
                v |= (long) (a[i++] & 0xFF) << 8 * k;
            }
            return v;
        }

        byte[] bytes() {
            int n = (int) varint();
            byte[] out = java.util.Arrays.copyOfRange(a, i, i + n);
            i += n;
            return out;
        }
    }
}
