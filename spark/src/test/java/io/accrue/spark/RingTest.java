package io.accrue.spark;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The ring on loopback, one thread per rank: the all-reduce's sums, their order, and a peer that goes away. */
class RingTest {

    interface RankBody<T> {
        T run(Ring ring) throws Exception;
    }

    /** Runs {@code body} on W ranks joined in a ring; the results by rank. */
    static <T> List<T> onRing(int w, RankBody<T> body) throws Exception {
        List<ServerSocketChannel> servers = new ArrayList<>();
        List<String> addresses = new ArrayList<>();
        for (int r = 0; r < w; r++) {
            servers.add(Ring.listen("127.0.0.1"));
            addresses.add(Ring.address("127.0.0.1", servers.get(r)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(w);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < w; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (Ring ring = Ring.join(rank, addresses, servers.get(rank))) {
                        return body.run(ring);
                    }
                }));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static float[] gradients(int rank, int n) {
        Random random = new Random(rank);
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) random.nextGaussian();
        }
        return g;
    }

    @Test
    void everyRankHoldsTheSumsInCyclicRankOrderFromTheChunksOwner() throws Exception {
        int w = 3;
        int n = 600_001; // chunks of over one piece, with a remainder
        List<float[]> results = onRing(w, ring -> {
            float[] g = gradients(ring.rank(), n);
            ring.allReduce(g);
            return g;
        });
        float[][] g = new float[w][];
        for (int r = 0; r < w; r++) {
            g[r] = gradients(r, n);
        }
        float[] expected = new float[n];
        for (int c = 0; c < w; c++) {
            for (int i = (int) ((long) c * n / w); i < (long) (c + 1) * n / w; i++) {
                float acc = g[c][i];
                for (int s = 1; s < w; s++) {
                    acc += g[(c + s) % w][i];
                }
                expected[i] = acc;
            }
        }
        for (int r = 0; r < w; r++) {
            assertArrayEquals(expected, results.get(r), "rank " + r);
        }
    }

    @Test
    void oneRankMovesNothing() throws Exception {
        float[] g = gradients(0, 1000);
        float[] reduced = onRing(1, ring -> {
            float[] copy = g.clone();
            ring.allReduce(copy);
            return copy;
        }).getFirst();
        assertArrayEquals(g, reduced);
    }

    @Test
    void allGatherReturnsEveryRanksValuesByRank() throws Exception {
        List<double[][]> all = onRing(4, ring -> ring.allGather(new double[]{ring.rank(), 10.5 * ring.rank()}));
        for (double[][] seen : all) {
            for (int r = 0; r < 4; r++) {
                assertArrayEquals(new double[]{r, 10.5 * r}, seen[r]);
            }
        }
    }

    @Test
    void aPeerThatLeavesEndsTheExchangeWithAnError() throws Exception {
        List<String> outcomes = onRing(2, ring -> {
            if (ring.rank() == 1) {
                return "left";
            }
            assertThrows(IOException.class, () -> ring.allReduce(new float[1000]));
            return "failed";
        });
        assertEquals(List.of("failed", "left"), outcomes);
    }
}
