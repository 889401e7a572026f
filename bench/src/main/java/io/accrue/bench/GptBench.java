package io.accrue.bench;

import io.accrue.models.GptConfig;
import io.accrue.run.MachineMemory;
import io.accrue.train.StepMetrics;

import java.util.Locale;

/**
 * GPT training throughput with the PyTorch reference's JSON fields ({@code ../shared/bench/gpt_bench.py}); the
 * measurement is {@link Throughput#measure} (also behind {@code accrue bench}).
 *
 * <p>Usage: {@code GptBench --config small --micro-batch 8 --accum 4 --steps 3 --warmup 1 [--threads 2]
 * [--concurrent auto|N] [--checkpointing]
 * [--peak-gflops G]}: MFU against G, by default the FMA peak {@link FmaPeak} measures first
 */
public final class GptBench {
    private GptBench() {
    }

    public static void main(String[] args) {
        String config = "small";
        int b = 8;
        int k = 1;
        int steps = 3;
        int warmup = 1;
        int threads = Runtime.getRuntime().availableProcessors();
        String concurrent = "auto";
        boolean checkpointing = false;
        double peak = 0;
        for (int i = 0; i < args.length; i += 2) {
            if (args[i].equals("--checkpointing")) {
                checkpointing = true;
                i--;
                continue;
            }
            String v = args[i + 1];
            switch (args[i]) {
                case "--config" -> config = v;
                case "--micro-batch" -> b = Integer.parseInt(v);
                case "--accum" -> k = Integer.parseInt(v);
                case "--steps" -> steps = Integer.parseInt(v);
                case "--warmup" -> warmup = Integer.parseInt(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--concurrent" -> concurrent = v;
                case "--peak-gflops" -> peak = Double.parseDouble(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (peak <= 0) {
            peak = FmaPeak.measure(threads)[1];
        }
        GptConfig cfg = GptConfig.named(config);
        int lanes = concurrent.equals("auto")
                ? Throughput.lanes(cfg, b, k, threads, checkpointing, MachineMemory.bytes()
                        - Throughput.dataBytes(cfg, b, k, steps, warmup))
                : Integer.parseInt(concurrent);
        Throughput.Result r = Throughput.measure(config, cfg, b, k, steps, warmup, threads, lanes, checkpointing, peak,
                (StepMetrics m) -> System.err.printf(Locale.ROOT, "step %d: %.3f s, loss %.4f%n", m.step(),
                        m.seconds(), m.loss()));
        System.out.println(r.toJson());
    }
}
