package io.accrue.spark;

import java.io.EOFException;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The W replicas of a run joined in a ring over TCP (JDK NIO socket channels): rank r sends to r+1 and receives from
 * r−1 (mod W), and {@link #allReduce} sums a float buffer across all of them in place, bandwidth-optimally
 * (reduce-scatter, then all-gather: each rank sends and receives 2·(W−1)/W of the buffer).
 *
 * <p>Order: the buffer is cut into W chunks; chunk c is summed along the ring starting at rank c, so each element's
 * sum is {@code ((g_c + g_{c+1}) + …) + g_{c−1}} over ranks in cyclic order from c — fixed for a given W, so every run
 * and every retry gives the same bits, and every rank ends with exactly the same buffer. With W = 1 nothing moves.
 *
 * <p>Why plain NIO and not Spark's Netty-based {@code org.apache.spark.network} layer: the collective is W
 * long-lived point-to-point streams moving large contiguous buffers in a fixed schedule; a blocking channel per
 * neighbour with one sender thread runs them at the socket's speed, without an event loop, pipeline or an internal
 * Spark API that changes between releases. NIO channels are interruptible: a killed task's thread, or a peer whose
 * socket closed, ends a transfer with an exception instead of a hang.
 */
final class Ring implements AutoCloseable {
    /** Floats per piece written or read at once: bounds the copy buffers, not the transfer. */
    private static final int PIECE = 1 << 18;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private final int rank;
    private final int size;
    private final SocketChannel next;
    private final SocketChannel previous;
    private final ExecutorService sender;
    private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(PIECE * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(PIECE * Float.BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
    private final float[] received = new float[PIECE];
    private long cpuNanos;

    private Ring(int rank, int size, SocketChannel next, SocketChannel previous) {
        this.rank = rank;
        this.size = size;
        this.next = next;
        this.previous = previous;
        this.sender = size > 1 ? Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon()
                .name("accrue-ring-send-" + rank).unstarted(r)) : null;
    }

    /** A listening socket for this rank, on {@code host} and a free port; its address is what the peers connect to. */
    static ServerSocketChannel listen(String host) throws IOException {
        return ServerSocketChannel.open().bind(new InetSocketAddress(host, 0));
    }

    /** The {@code host:port} others reach {@code server} at. */
    static String address(String host, ServerSocketChannel server) throws IOException {
        return host + ":" + ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /**
     * Joins the ring: connects to rank {@code rank + 1}'s address and accepts rank {@code rank − 1} on {@code server}
     * (every rank already listens, so the connects never wait on an accept). Closes {@code server}.
     *
     * @param addresses every rank's {@code host:port}, by rank
     */
    static Ring join(int rank, List<String> addresses, ServerSocketChannel server) throws IOException {
        int w = addresses.size();
        try (server) {
            if (w == 1) {
                return new Ring(0, 1, null, null);
            }
            String to = addresses.get((rank + 1) % w);
            int colon = to.lastIndexOf(':');
            SocketChannel next = SocketChannel.open(new InetSocketAddress(to.substring(0, colon),
                    Integer.parseInt(to.substring(colon + 1))));
            SocketChannel previous = null;
            try {
                next.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
                writeFully(next, ByteBuffer.allocate(Integer.BYTES).putInt(0, rank));
                previous = server.accept();
                ByteBuffer hello = ByteBuffer.allocate(Integer.BYTES);
                readFully(previous, hello);
                int from = hello.getInt(0);
                if (from != (rank + w - 1) % w) {
                    throw new IOException("rank " + rank + " expected rank " + (rank + w - 1) % w + ", got " + from);
                }
                return new Ring(rank, w, next, previous);
            } catch (IOException | RuntimeException e) {
                next.close();
                if (previous != null) {
                    previous.close();
                }
                throw e;
            }
        }
    }

    int rank() {
        return rank;
    }

    int size() {
        return size;
    }

    /**
     * Sums {@code g} across the ring in place: on return every rank's {@code g} holds the same sums, each element
     * added in the fixed order of the class comment.
     */
    void allReduce(float[] g) throws IOException {
        int w = size;
        for (int s = 0; s < w - 1; s++) { // reduce-scatter: after it, rank r holds chunk r+1's full sum
            exchange(g, Math.floorMod(rank - s, w), Math.floorMod(rank - s - 1, w), true);
        }
        for (int s = 0; s < w - 1; s++) { // all-gather: pass the full sums on
            exchange(g, Math.floorMod(rank + 1 - s, w), Math.floorMod(rank - s, w), false);
        }
    }

    /**
     * Every rank's {@code values} (the same length on each), by rank: a ring all-gather of small records, which also
     * waits until every rank has reached it.
     */
    double[][] allGather(double[] values) throws IOException {
        double[][] all = new double[size][];
        all[rank] = values.clone();
        ByteBuffer buf = ByteBuffer.allocate(values.length * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int s = 0; s < size - 1; s++) {
            double[] out = all[Math.floorMod(rank - s, size)];
            buf.clear();
            buf.asDoubleBuffer().put(out);
            writeFully(next, buf);
            buf.clear();
            readFully(previous, buf);
            double[] in = new double[values.length];
            buf.flip();
            buf.asDoubleBuffer().get(in);
            all[Math.floorMod(rank - s - 1, size)] = in;
        }
        return all;
    }

    /**
     * CPU time the exchanges of this ring have taken so far, sending and receiving threads together: the transport's
     * own cost, apart from the wall time a loaded machine adds by sharing its cores.
     */
    long cpuNanos() {
        return cpuNanos;
    }

    /** Sends chunk {@code out} to the next rank while receiving chunk {@code in} from the previous one. */
    private void exchange(float[] g, int out, int in, boolean add) throws IOException {
        Future<Long> sent = sender.submit(() -> {
            long t0 = THREADS.getCurrentThreadCpuTime();
            send(g, chunkStart(g, out), chunkStart(g, out + 1));
            return THREADS.getCurrentThreadCpuTime() - t0;
        });
        try {
            long t0 = THREADS.getCurrentThreadCpuTime();
            receive(g, chunkStart(g, in), chunkStart(g, in + 1), add);
            cpuNanos += THREADS.getCurrentThreadCpuTime() - t0 + sent.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while exchanging gradients", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } finally {
            sent.cancel(true);
        }
    }

    private int chunkStart(float[] g, int chunk) {
        return (int) ((long) chunk * g.length / size);
    }

    private void send(float[] g, int from, int to) throws IOException {
        for (int i = from; i < to; i += PIECE) {
            int n = Math.min(PIECE, to - i);
            sendBuffer.clear();
            sendBuffer.asFloatBuffer().put(g, i, n);
            sendBuffer.limit(n * Float.BYTES);
            writeFully(next, sendBuffer);
        }
    }

    /** Reads floats [from, to) of the previous rank's chunk: adds them to {@code g} ({@code in + own}) or copies. */
    private void receive(float[] g, int from, int to, boolean add) throws IOException {
        for (int i = from; i < to; i += PIECE) {
            int n = Math.min(PIECE, to - i);
            receiveBuffer.clear().limit(n * Float.BYTES);
            readFully(previous, receiveBuffer);
            receiveBuffer.flip();
            if (add) {
                receiveBuffer.asFloatBuffer().get(received, 0, n);
                for (int j = 0; j < n; j++) {
                    g[i + j] = received[j] + g[i + j];
                }
            } else {
                receiveBuffer.asFloatBuffer().get(g, i, n);
            }
        }
    }

    private static void writeFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    private static void readFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new EOFException("a peer of the ring closed its connection (its task failed or was killed)");
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (sender != null) {
            sender.shutdownNow();
        }
        try (SocketChannel a = next; SocketChannel b = previous) {
            // both closed, the second even if closing the first fails
        }
    }
}
