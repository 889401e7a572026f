package io.accrue.bench;

import io.accrue.autograd.Tape;
import io.accrue.models.Decoding;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Sampler;
import io.accrue.models.TokenBatch;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.tensor.KeyedRandom;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sampling throughput of a randomly initialised GPT ({@link Decoding}, key/value cache): tokens per second for each
 * number of new tokens after a prompt of {@code --prompt} tokens, the median of {@code --runs} timed generations
 * after one untimed generation of 32 tokens (the JIT's warm-up). Without a cache, each new token is a forward pass over its whole prefix: the
 * reference times such passes over prefixes of the prompt plus 1 and plus each count of new tokens (what the first
 * and the last token of that generation would cost), the median of {@code --runs}.
 *
 * <p>Usage: {@code SamplingBench [--config gpt2] [--prompt 16] [--tokens 64,512] [--runs 3] [--threads N]
 * [--temperature 1] [--top-k 0] [--top-p 0.95]}
 */
public final class SamplingBench {
    /** Tokens of the one untimed generation that warms the JIT up before the timed ones. */
    private static final int WARM_UP_TOKENS = 32;

    private SamplingBench() {
    }

    public static void main(String[] args) {
        Map<String, String> o = BenchSupport.options(args, Map.of("config", "gpt2", "prompt", "16", "tokens",
                "64,512", "runs", "3", "threads", BenchSupport.allCores(), "temperature", "1", "top-k", "0", "top-p",
                "0.95"));
        String name = o.get("config");
        GptConfig config = GptConfig.named(name);
        int[] prompt = new int[Integer.parseInt(o.get("prompt"))];
        Arrays.setAll(prompt, i -> (int) Long.remainderUnsigned(KeyedRandom.hash(1, i, 0, 0), config.vocab()));
        int runs = Integer.parseInt(o.get("runs"));
        int threads = Integer.parseInt(o.get("threads"));
        Gpt model = new Gpt(config, 1);
        try (Compute compute = new Compute(threads)) {
            Tape tape = new Tape(compute, new Arena());
            Decoding.greedy(model, tape, new int[][] {prompt}, WARM_UP_TOKENS); // the JIT's warm-up, untimed
            for (String count : o.get("tokens").split(",")) {
                int n = Integer.parseInt(count);
                List<Double> times = new ArrayList<>();
                for (int r = 0; r < runs; r++) {
                    Sampler sampler = new Sampler(Double.parseDouble(o.get("temperature")),
                            Integer.parseInt(o.get("top-k")), Double.parseDouble(o.get("top-p")), r);
                    long t0 = System.nanoTime();
                    int made = Decoding.generate(model, tape, new int[][] {prompt}, n, sampler)[0].length;
                    times.add(made / ((System.nanoTime() - t0) / 1e9));
                }
                double[] tps = BenchSupport.timed(times, 0);
                System.out.printf(Locale.ROOT, "{\"config\":\"%s\",\"threads\":%d,\"prompt\":%d,\"new_tokens\":%d,"
                                + "\"cache\":true,\"tokens_per_s\":%.2f,\"ms_per_token\":%.1f,\"runs\":%s}%n", name,
                        threads, prompt.length, n, BenchSupport.median(tps), 1000 / BenchSupport.median(tps),
                        BenchSupport.list(tps));
                for (int prefix : new int[] {prompt.length + 1, prompt.length + n}) {
                    double s = fullPassSeconds(model, tape, Math.min(prefix, config.context()), runs);
                    System.out.printf(Locale.ROOT, "{\"config\":\"%s\",\"threads\":%d,\"cache\":false,\"prefix\":%d,"
                            + "\"ms_per_token\":%.1f}%n", name, threads, prefix, 1000 * s);
                }
            }
        }
    }

    /** The median time of one eval-mode forward pass over {@code t} tokens, after an untimed one. */
    private static double fullPassSeconds(Gpt model, Tape tape, int t, int runs) {
        tape.setTraining(false);
        List<Double> times = new ArrayList<>();
        for (int r = 0; r <= runs; r++) {
            long t0 = System.nanoTime();
            model.logits(tape, new TokenBatch(new int[t], new int[t], new long[] {0}, 1, t));
            times.add((System.nanoTime() - t0) / 1e9);
            tape.reset();
        }
        return BenchSupport.median(BenchSupport.timed(times, 1));
    }
}
