package io.accrue.data;

import java.io.IOException;
import java.io.Reader;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Encodes a stream of text on several threads with exactly the ids of encoding it whole: the text is cut into chunks
 * of about {@link #chunkChars} characters at {@link Tokenizer#lastBoundary boundaries the tokenizer never merges
 * across}, the chunks are encoded concurrently, and their ids are handed on in order. A chunk with no boundary in it
 * grows until one comes (or the text ends). At most {@code 2 × threads} chunks wait at a time, so memory stays flat
 * in the length of the text.
 *
 * <p>Call order: {@link #encode} for each text; or {@link #add} (and {@link #addIds}) for each document of a stream,
 * then {@link #finish}; {@link #close} at the end. Not for use from several threads.
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
    private final ArrayDeque<Future<int[]>> pending = new ArrayDeque<>();

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
     * Reads {@code text} to its end and passes its ids, in order, to {@code sink} (on this thread), all of them by
     * the time it returns.
     *
     * @return the number of characters read
     */
    public long encode(Reader text, Sink sink) throws IOException {
        long chars = add(text, sink);
        finish(sink);
        return chars;
    }

    /**
     * Reads {@code text} to its end and queues its chunks behind those queued before: ids reach {@code sink} in
     * order as chunks finish, the last ones by {@link #finish}. Documents added one after another keep every thread
     * busy across their boundaries (a directory of small files).
     *
     * @return the number of characters read
     */
    public long add(Reader text, Sink sink) throws IOException {
        StringBuilder carry = new StringBuilder();
        char[] buf = new char[Math.min(chunkChars, 1 << 16)];
        long chars = 0;
        int target = chunkChars;
        int scanned = 0;
        boolean eof = false;
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
                    String rest = carry.toString();
                    queue(pool.submit(() -> tokenizer.encode(rest)), sink);
                }
                return chars;
            }
            // positions before `scanned` were judged already (a boundary's test reads one character ahead)
            int cut = tokenizer.lastBoundary(carry, Math.max(1, scanned - 1), carry.length());
            if (cut <= 0) {
                scanned = carry.length();
                target = carry.length() + chunkChars;
                continue;
            }
            String chunk = carry.substring(0, cut);
            queue(pool.submit(() -> tokenizer.encode(chunk)), sink);
            carry.delete(0, cut);
            scanned = 0;
            target = chunkChars;
        }
    }

    /** Queues {@code ids} (a document separator) behind the chunks queued before. */
    public void addIds(int[] ids, Sink sink) throws IOException {
        queue(CompletableFuture.completedFuture(ids.clone()), sink);
    }

    /** Passes the ids of every queued chunk, in order, to {@code sink}. */
    public void finish(Sink sink) throws IOException {
        while (!pending.isEmpty()) {
            sink.accept(take(pending));
        }
    }

    /** Queues {@code f}; hands finished ids on while more than 2 × threads chunks wait. */
    private void queue(Future<int[]> f, Sink sink) throws IOException {
        pending.add(f);
        while (pending.size() > inFlight) {
            sink.accept(take(pending));
        }
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

    /** Drops what is still queued (after an error) and stops the threads. */
    @Override
    public void close() {
        pending.forEach(f -> f.cancel(true));
        pending.clear();
        pool.shutdownNow();
    }
}
