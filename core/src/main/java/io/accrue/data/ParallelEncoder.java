package io.accrue.data;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Encodes a stream of text on several threads with exactly the ids of encoding it whole: the text is cut into chunks
 * of about {@link #chunkChars} characters at {@link Tokenizer#lastBoundary boundaries the tokenizer never merges
 * across}, the chunks are encoded concurrently, and their ids are handed on in order. A chunk with no boundary in it
 * grows until one comes (or the text ends). At most {@code 2 × threads} chunks are in flight, so memory stays flat
 * in the length of the text.
 *
 * <p>Call order: {@link #encode} for each document, then {@link #close}.
 */
public final class ParallelEncoder implements AutoCloseable {
    /** Default chunk size: 1 Mi characters. */
    public static final int CHUNK_CHARS = 1 << 20;

    /** Receives ids in text order. */
    @FunctionalInterface
    public interface Sink {
        void accept(int[] ids) throws IOException;
    }

    private final Tokenizer tokenizer;
    private final int chunkChars;
    private final int inFlight;
    private final ExecutorService pool;

    /**
     * @param threads    encoding threads (≥ 1)
     * @param chunkChars characters read before a chunk is cut (≥ 2)
     */
    public ParallelEncoder(Tokenizer tokenizer, int threads, int chunkChars) {
        if (threads < 1 || chunkChars < 2) {
            throw new IllegalArgumentException("threads " + threads + " and chunk " + chunkChars + " must be ≥ 1 and ≥ 2");
        }
        this.tokenizer = tokenizer;
        this.chunkChars = chunkChars;
        this.inFlight = 2 * threads;
        this.pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "accrue-tokenize");
            t.setDaemon(true);
            return t;
        });
    }

    /** Characters read before a chunk is cut. */
    public int chunkChars() {
        return chunkChars;
    }

    /**
     * Reads {@code text} to its end and passes its ids, in order, to {@code sink} (on this thread).
     *
     * @return the number of characters read
     */
    public long encode(Reader text, Sink sink) throws IOException {
        ArrayDeque<Future<int[]>> pending = new ArrayDeque<>();
        StringBuilder carry = new StringBuilder();
        char[] buf = new char[Math.min(chunkChars, 1 << 16)];
        long chars = 0;
        int target = chunkChars;
        int scanned = 0;
        boolean eof = false;
        try {
            while (true) {
                while (!eof && carry.length() < target) {
                    int n = text.read(buf, 0, buf.length);
                    if (n < 0) {
                        eof = true;
                    } else {
                        carry.append(buf, 0, n);
                        chars += n;
                    }
                }
                if (eof) {
                    if (!carry.isEmpty()) {
                        submit(pending, carry.toString());
                    }
                    break;
                }
                // positions before `scanned` were judged already (a boundary's test reads one character ahead)
                int cut = tokenizer.lastBoundary(carry, Math.max(1, scanned - 1), carry.length());
                if (cut <= 0) {
                    scanned = carry.length();
                    target = carry.length() + chunkChars;
                    continue;
                }
                submit(pending, carry.substring(0, cut));
                carry.delete(0, cut);
                scanned = 0;
                target = chunkChars;
                while (pending.size() >= inFlight) {
                    sink.accept(take(pending));
                }
            }
            while (!pending.isEmpty()) {
                sink.accept(take(pending));
            }
        } finally {
            pending.forEach(f -> f.cancel(true));
        }
        return chars;
    }

    private void submit(ArrayDeque<Future<int[]>> pending, String chunk) {
        pending.add(pool.submit(() -> tokenizer.encode(chunk)));
    }

    private static int[] take(ArrayDeque<Future<int[]>> pending) throws IOException {
        Future<int[]> f = pending.poll();
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while tokenizing", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException("tokenizing failed: " + e.getCause(), e.getCause());
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
