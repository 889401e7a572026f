package io.accrue.run;

import io.accrue.data.EnvironmentException;
import io.accrue.data.ParallelEncoder;
import io.accrue.data.Tokenizer;
import io.accrue.train.Json;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * {@code accrue prepare}: text files → token shards, nanoGPT's layout ({@link PreparedData}). The files are read in
 * order (a directory: its files, sorted by path, hidden ones skipped; {@code .gz} decompressed on the fly), decoded
 * as UTF-8, tokenized on all cores ({@link ParallelEncoder}: exactly the ids of encoding each file whole), one
 * {@link Tokenizer#endOfText() end-of-text} id between two files (documents), and streamed to disk: the first part of
 * the token stream becomes {@code train.bin}, the last {@code valFraction} of it {@code val.bin}. The heap stays flat
 * in the corpus size (a few chunks in flight).
 *
 * <p>Invalid UTF-8 is refused (one line naming the file and the byte offset), or with {@link Options#replaceInvalid}
 * replaced by U+FFFD and counted. Outputs are written under temporary names and renamed at the end, {@code meta.json}
 * last; on any error — bad input, or a full disk ({@link EnvironmentException}) — the temporary files (and an output
 * directory this call created) are removed, and earlier outputs in the directory are left as they were.
 */
public final class Prepare {
    /** The validation share when none is given: the last tenth of the token stream. */
    public static final double DEFAULT_VAL_FRACTION = 0.1;

    private Prepare() {
    }

    /**
     * What to prepare.
     *
     * @param inputs         text files and directories, in order
     * @param tokenizer      the tokenizer
     * @param valFraction    the share of tokens at the end of the stream that go to {@code val.bin}, in (0, 1)
     * @param out            the output directory (created if missing)
     * @param threads        tokenizing threads
     * @param replaceInvalid replace invalid UTF-8 by U+FFFD instead of refusing the file
     * @param chunkChars     characters per tokenizing chunk ({@link ParallelEncoder#CHUNK_CHARS})
     */
    public record Options(List<Path> inputs, Tokenizer tokenizer, double valFraction, Path out, int threads,
                          boolean replaceInvalid, int chunkChars) {
        public Options {
            if (inputs == null || inputs.isEmpty()) {
                throw new IllegalArgumentException("--data: give at least one text file or directory");
            }
            if (!(valFraction > 0 && valFraction < 1)) {
                throw new IllegalArgumentException("--val-fraction must be between 0 and 1 (exclusive), got "
                        + valFraction);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be a positive integer, got " + threads);
            }
            inputs = List.copyOf(inputs);
        }

        /** All cores, 1 Mi-character chunks, invalid UTF-8 refused. */
        public Options(List<Path> inputs, Tokenizer tokenizer, double valFraction, Path out) {
            this(inputs, tokenizer, valFraction, out, Runtime.getRuntime().availableProcessors(), false,
                    ParallelEncoder.CHUNK_CHARS);
        }
    }

    /** Follows a preparation; every method is optional and called on the preparing thread. */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        /** Reading starts: {@code files} files of {@code bytes} bytes in all (as stored: compressed for .gz). */
        default void started(int files, long bytes) {
        }

        /** {@code bytes} of the inputs have been read so far. */
        default void progress(long bytes) {
        }

        /** Reading is done (the shards are being split and hashed). */
        default void finished() {
        }
    }

    /**
     * Prepares {@code o.out()} from {@code o.inputs()}.
     *
     * @return the prepared data, as {@link PreparedData#open} reads it
     * @throws IllegalArgumentException one line naming bad input (missing or unreadable file, invalid UTF-8, an empty
     *                                  corpus, a split that leaves a part empty, an output inside an input)
     * @throws IOException              when the output cannot be written
     */
    public static PreparedData run(Options o, Listener listener) throws IOException {
        List<Path> files = files(o.inputs());
        Path out = o.out();
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " is a file; give a directory (it is created if "
                    + "missing)");
        }
        Path outAbs = out.toAbsolutePath().normalize();
        for (Path in : o.inputs()) {
            if (Files.isDirectory(in) && outAbs.startsWith(in.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("--out " + out + " lies inside --data " + in + ", so its shards "
                        + "would be read as text next time; choose an --out outside it");
            }
        }
        Tokenizer tok = o.tokenizer();
        int width = tok.vocabSize() > 65536 ? 4 : 2;
        long total = 0;
        for (Path f : files) {
            total += Files.size(f);
        }
        boolean created = !Files.exists(out);
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw EnvironmentException.of("create", out, e);
        }
        Path tmpTrain = out.resolve(PreparedData.TRAIN + ".tmp");
        Path tmpVal = out.resolve(PreparedData.VAL + ".tmp");
        Path tmpMeta = out.resolve(PreparedData.META + ".tmp");
        boolean done = false;
        try {
            listener.started(files.size(), total);
            List<Map<String, Object>> sources = new ArrayList<>();
            long chars = 0;
            long replaced = 0;
            long tokens;
            try (Closing end = listener::finished;
                 TokenWriter w = new TokenWriter(tmpTrain, width, tok.vocabSize());
                 ParallelEncoder enc = new ParallelEncoder(tok, o.threads(), o.chunkChars())) {
                long[] read = {0};
                for (int i = 0; i < files.size(); i++) {
                    Path f = files.get(i);
                    if (i > 0 && tok.endOfText() >= 0) {
                        enc.addIds(new int[] {tok.endOfText()}, w);
                    }
                    MessageDigest md = sha256();
                    long before = read[0];
                    try (InputStream raw = new Counting(new DigestInputStream(open(f), md), read, listener);
                         Utf8Reader text = new Utf8Reader(f, decompressed(f, raw), o.replaceInvalid())) {
                        chars += enc.add(text, w); // the next file's chunks queue behind this one's
                        replaced += text.replaced;
                        raw.transferTo(java.io.OutputStream.nullOutputStream()); // the rest of the file (a gzip trailer), for its hash
                    }
                    Map<String, Object> s = new LinkedHashMap<>();
                    s.put("path", f.toString());
                    s.put("bytes", read[0] - before);
                    s.put("sha256", HexFormat.of().formatHex(md.digest()));
                    sources.add(s);
                }
                enc.finish(w);
                tokens = w.count;
            }
            if (tokens == 0) {
                throw new IllegalArgumentException("--data: the corpus is empty (" + files.size() + " file"
                        + (files.size() == 1 ? "" : "s") + " without text); give text files with content");
            }
            long val = Math.round(tokens * o.valFraction());
            if (val < 2 || tokens - val < 2) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "--val-fraction %s of %,d tokens leaves "
                        + "%,d for training and %,d for validation; each needs at least 2 (ideally many sequences): "
                        + "give more text or another --val-fraction", o.valFraction(), tokens, tokens - val, val));
            }
            long train = tokens - val;
            try {
                split(tmpTrain, tmpVal, train * width);
            } catch (IOException e) {
                throw EnvironmentException.of("write", out.resolve(PreparedData.VAL), e);
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("format", PreparedData.FORMAT);
            meta.put("version", 1L);
            meta.put("tokenizer", tok.name());
            meta.put("vocab_size", (long) tok.vocabSize());
            meta.put("dtype", width == 2 ? "uint16" : "uint32");
            meta.put("token_bytes", (long) width);
            meta.put("end_of_text", (long) tok.endOfText());
            meta.put("train_tokens", train);
            meta.put("val_tokens", val);
            meta.put("val_fraction", o.valFraction());
            meta.put("train_sha256", PreparedData.sha256(tmpTrain));
            meta.put("val_sha256", PreparedData.sha256(tmpVal));
            meta.put("characters", chars);
            meta.put("invalid_utf8", o.replaceInvalid() ? "replaced" : "refused");
            meta.put("replaced_invalid_utf8", replaced);
            meta.put("sources", sources);
            try {
                Files.writeString(tmpMeta, Json.write(meta, 2) + "\n");
                force(tmpMeta);
            } catch (IOException e) {
                throw EnvironmentException.of("write", out.resolve(PreparedData.META), e);
            }
            // meta.json goes first and comes back last: a crash between the renames leaves no meta.json, never one
            // describing other shards
            Files.deleteIfExists(out.resolve(PreparedData.META));
            Files.move(tmpTrain, out.resolve(PreparedData.TRAIN), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmpVal, out.resolve(PreparedData.VAL), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmpMeta, out.resolve(PreparedData.META), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            forceDir(out);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmpTrain);
                Files.deleteIfExists(tmpVal);
                Files.deleteIfExists(tmpMeta);
                if (created) {
                    try (Stream<Path> left = Files.list(out)) {
                        if (left.findAny().isEmpty()) {
                            Files.deleteIfExists(out);
                        }
                    }
                }
            }
        }
        return PreparedData.open(out, null, true);
    }

    /** The inputs as files, in order: a directory's regular files sorted by path, hidden ones skipped. */
    static List<Path> files(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path in : inputs) {
            if (Files.isDirectory(in)) {
                List<Path> inDir;
                try (Stream<Path> walk = Files.walk(in)) {
                    inDir = walk.filter(Files::isRegularFile)
                            .filter(p -> !in.relativize(p).toString().startsWith(".")
                                    && !p.getFileName().toString().startsWith("."))
                            .sorted().toList();
                }
                if (inDir.isEmpty()) {
                    throw new IllegalArgumentException("--data " + in + ": the directory holds no files; give text "
                            + "files or a directory of them");
                }
                files.addAll(inDir);
            } else if (Files.isRegularFile(in)) {
                files.add(in);
            } else {
                throw new IllegalArgumentException("--data " + in + ": no such file or directory; give UTF-8 text "
                        + "files (.gz read too) or directories of them");
            }
        }
        return files;
    }

    private static InputStream open(Path f) {
        try {
            return Files.newInputStream(f);
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("--data " + f + ": permission denied; make it readable (chmod +r)");
        } catch (IOException e) {
            throw new IllegalArgumentException("--data " + f + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** {@code raw} itself, or its decompression when {@code f}'s name ends in {@code .gz}. */
    private static InputStream decompressed(Path f, InputStream raw) {
        InputStream in = new BufferedInputStream(raw, 1 << 16);
        if (!f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".gz")) {
            return in;
        }
        try {
            return new GZIPInputStream(in, 1 << 16);
        } catch (IOException e) {
            throw new IllegalArgumentException("--data " + f + ": not gzip data (" + e.getMessage() + "); rename it "
                    + "if it is plain text");
        }
    }

    /** Moves the bytes from {@code splitAt} on into {@code val} and cuts them off {@code train}. */
    private static void split(Path train, Path val, long splitAt) throws IOException {
        try (FileChannel t = FileChannel.open(train, StandardOpenOption.READ, StandardOpenOption.WRITE);
             FileChannel v = FileChannel.open(val, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING)) {
            long size = t.size();
            long pos = splitAt;
            while (pos < size) {
                pos += t.transferTo(pos, size - pos, v);
            }
            v.force(true);
            t.truncate(splitAt);
            t.force(true);
        }
    }

    private static void force(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private static void forceDir(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems cannot sync a directory; the renames are still atomic
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs at the end of a try block, exception or not. */
    private interface Closing extends AutoCloseable {
        @Override
        void close();
    }

    /** Token ids to a file, little-endian, 2 or 4 bytes each. */
    private static final class TokenWriter implements ParallelEncoder.Sink, AutoCloseable {
        private final Path file;
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private final int width;
        private final int vocab;
        long count;

        /** Writes to {@code file}, a temporary name of {@code train.bin}. */
        TokenWriter(Path file, int width, int vocab) {
            this.file = file;
            try {
                this.ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING);
            } catch (IOException e) {
                throw EnvironmentException.of("write", file.resolveSibling(PreparedData.TRAIN), e);
            }
            this.width = width;
            this.vocab = vocab;
        }

        @Override
        public void accept(int[] ids) throws IOException {
            for (int id : ids) {
                if (id < 0 || id >= vocab) {
                    throw new IllegalStateException("tokenizer produced id " + id + " outside its vocabulary " + vocab);
                }
                if (buf.remaining() < width) {
                    flush();
                }
                if (width == 2) {
                    buf.putShort((short) id);
                } else {
                    buf.putInt(id);
                }
            }
            count += ids.length;
        }

        private void flush() {
            buf.flip();
            try {
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            } catch (IOException e) {
                throw EnvironmentException.of("write", file.resolveSibling(PreparedData.TRAIN), e);
            }
            buf.clear();
        }

        @Override
        public void close() throws IOException {
            try {
                flush();
            } finally {
                ch.close();
            }
        }
    }

    /** Counts the bytes read into a shared total and reports it. */
    private static final class Counting extends FilterInputStream {
        private final long[] total;
        private final Listener listener;
        private long reported;

        Counting(InputStream in, long[] total, Listener listener) {
            super(in);
            this.total = total;
            this.listener = listener;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        private void add(long n) {
            total[0] += n;
            if (total[0] - reported >= 1 << 20) {
                reported = total[0];
                listener.progress(reported);
            }
        }

        @Override
        public void close() throws IOException {
            super.close();
            listener.progress(total[0]);
        }
    }

    /**
     * Strict UTF-8: a malformed sequence is an {@link IllegalArgumentException} naming the file and the byte offset
     * (in the decompressed text), or with {@code replace} becomes U+FFFD and is counted.
     */
    static final class Utf8Reader extends Reader {
        private final Path file;
        private final InputStream in;
        private final boolean replace;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private final ByteBuffer bytes = ByteBuffer.allocate(1 << 16).flip();
        private final CharBuffer chars = CharBuffer.allocate(1 << 16).flip();
        private long consumed;
        private boolean eof;
        private boolean finished;
        long replaced;

        Utf8Reader(Path file, InputStream in, boolean replace) {
            this.file = file;
            this.in = in;
            this.replace = replace;
        }

        @Override
        public int read(char[] cbuf, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!chars.hasRemaining() && !decodeMore()) {
                return -1;
            }
            int n = Math.min(len, chars.remaining());
            chars.get(cbuf, off, n);
            return n;
        }

        /** Decodes at least one more character into {@link #chars}; false at the end of the text. */
        private boolean decodeMore() throws IOException {
            if (finished) {
                return false;
            }
            chars.clear();
            try {
                while (chars.position() == 0) {
                    int before = bytes.position();
                    CoderResult r = decoder.decode(bytes, chars, eof);
                    consumed += bytes.position() - before;
                    if (r.isError()) {
                        if (!replace) {
                            throw new IllegalArgumentException(String.format(Locale.ROOT, "--data %s: invalid UTF-8 "
                                    + "at byte %,d%s; convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8) or pass "
                                    + "--invalid-utf8 replace to replace bad bytes with U+FFFD", file, consumed,
                                    file.toString().endsWith(".gz") ? " of its decompressed text" : ""));
                        }
                        if (!chars.hasRemaining()) {
                            break;
                        }
                        chars.put('\uFFFD');
                        bytes.position(bytes.position() + r.length());
                        consumed += r.length();
                        replaced++;
                    } else if (r.isOverflow()) {
                        break;
                    } else if (eof) {
                        decoder.flush(chars); // UTF-8 keeps no state to flush; the decoder's protocol asks for it
                        finished = true;
                        return chars.position() > 0;
                    } else {
                        fill();
                    }
                }
            } finally {
                chars.flip();
            }
            return true;
        }

        /** Reads more bytes behind the undecoded rest. */
        private void fill() throws IOException {
            bytes.compact();
            int n = in.read(bytes.array(), bytes.position(), bytes.remaining());
            if (n < 0) {
                eof = true;
            } else {
                bytes.position(bytes.position() + n);
            }
            bytes.flip();
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
