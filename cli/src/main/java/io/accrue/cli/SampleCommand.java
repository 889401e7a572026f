package io.accrue.cli;

import io.accrue.run.RunSpec;
import io.accrue.data.AdditionTask;
import io.accrue.data.CharVocabulary;
import io.accrue.data.Tokenizer;
import io.accrue.data.Tokenizers;
import io.accrue.models.Decoding;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Sampler;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.autograd.Tape;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code accrue sample}: continues a prompt with a trained checkpoint, an exported or a Hugging Face GPT-2 directory
 * ({@link ModelSource}), the prompt encoded and the continuation decoded with the run's tokenizer ({@code addition},
 * {@code bytes} or {@code gpt2}) or {@code --tokenizer}'s. The generation is core's {@link Decoding} (a key/value
 * cache) with a {@link Sampler} made of the sampling options; it stops at {@code --tokens} or the model's context,
 * and says which, with the tokens per second, on stderr.
 */
@Command(name = "sample", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = "Generate text from a checkpoint written by 'accrue train', a directory written by 'accrue "
                + "export', or a Hugging Face GPT-2 directory.")
final class SampleCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", paramLabel = "DIR", required = true,
            description = "A run's --out directory or its checkpoint/ directory, or a Hugging Face GPT-2 directory "
                    + "(config.json and model.safetensors: accrue export's, or save_pretrained's).")
    Path checkpoint;

    @Option(names = "--tokenizer", paramLabel = "NAME", description = "bytes or gpt2. Default: the run's; for a "
            + "Hugging Face directory the one its weights name, else gpt2 for a vocabulary of 50,257.")
    String tokenizerName;

    @Option(names = "--prompt", paramLabel = "TEXT", required = true, description = "Text to continue, e.g. "
            + "\"123+456=\" for the addition task.")
    String prompt;

    @Option(names = "--tokens", paramLabel = "N", description = "Tokens to generate. Default: the answer length "
            + "(addition) or 200.")
    Integer tokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0", description = "0: greedy; else sample "
            + "from softmax(logits / T).")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0", description = "Sample among the K most likely "
            + "tokens only; 0: all.")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "1", description = "Sample among the fewest most "
            + "likely tokens whose probability reaches P, in (0, 1]; 1: all.")
    double topP;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1", description = "Seed of sampling: the same "
            + "seed, checkpoint, prompt and options give the same text.")
    long seed;

    @Option(names = "--heap-only", hidden = true, description = "Validate, plan, print the Java heap the plan needs "
            + "in MiB (the launcher's -Xmx) and stop.")
    boolean heapOnly;

    @Override
    public Integer call() {
        Sampler sampler;
        try {
            sampler = new Sampler(temperature, topK, topP, seed);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--" + e.getMessage());
        }
        ModelSource source = ModelSource.resolve(checkpoint, tokenizerName);
        source.notes().forEach(n -> spec.commandLine().getErr().println("accrue: " + n));
        GptConfig cfg = source.gpt().withDropout(0f);
        boolean addition = RunSpec.ADDITION_TOKENIZER.equals(source.tokenizer());
        int[] in;
        CharVocabulary vocab = AdditionTask.VOCABULARY;
        Tokenizer tokenizer = addition ? null : Tokenizers.byName(source.tokenizer());
        if (addition) {
            try {
                in = vocab.encode(prompt);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--prompt: " + e.getMessage() + "; the addition model reads digits, '+' and "
                        + "'=' like \"123+456=\"");
            }
        } else {
            in = tokenizer.encode(prompt);
        }
        if (in.length == 0) {
            throw new UsageException("--prompt is empty; give some text to continue");
        }
        int n = tokens != null ? tokens : addition ? source.digits() + 1 : 200;
        if (n < 0) {
            throw new UsageException("--tokens must be ≥ 0, got " + n);
        }
        if (in.length > cfg.context()) {
            spec.commandLine().getErr().printf("accrue: the prompt's %d tokens exceed the model's context of %d; "
                    + "continuing its last %d%n", in.length, cfg.context(), cfg.context());
            in = Arrays.copyOfRange(in, in.length - cfg.context(), in.length);
        }
        int threads = Runtime.getRuntime().availableProcessors();
        MemoryPlan plan = MemoryPlanner.planDecoding(Gpt.shapesOnly(cfg), new int[] {in.length}, n, threads);
        long heapMiB = MemoryPlan.xmxMiB(plan.heapBytes());
        ErrorHandlers.planned(plan.totalBytes(), heapMiB << 20);
        MemoryRefusal.refuseBeyond(plan.totalBytes(), "sampling from model " + source.model(), "sample from a smaller "
                + "model");
        if (heapOnly) {
            spec.commandLine().getOut().println(heapMiB);
            return 0;
        }
        Gpt model = new Gpt(cfg, 0);
        source.restore(model.parameters());
        try (Compute compute = new Compute(threads)) {
            Tape tape = new Tape(compute, new Arena(Math.min(plan.activationBytes() / Float.BYTES, Arena.MAX_CHUNK)));
            long t0 = System.nanoTime();
            int[] outTokens = Decoding.generate(model, tape, new int[][] {in}, n, sampler)[0];
            double seconds = (System.nanoTime() - t0) / 1e9;
            String text;
            if (addition) {
                String digits = vocab.decode(outTokens);
                text = prompt + digits;
                if (digits.chars().allMatch(Character::isDigit)) {
                    text += "   (sum " + new StringBuilder(digits).reverse().toString().replaceFirst("^0+(?=.)", "")
                            + ")";
                }
            } else {
                text = prompt + tokenizer.decode(outTokens);
            }
            spec.commandLine().getOut().println(text);
            PrintWriter err = spec.commandLine().getErr();
            if (outTokens.length < n) {
                err.printf("accrue: stopped after %d of %d tokens: the sequence reached the model's context of %d%n",
                        outTokens.length, n, cfg.context());
            }
            err.printf(Locale.ROOT, "accrue: %d tokens in %.2f s (%.1f tokens/s; prompt %d tokens)%n",
                    outTokens.length, seconds, outTokens.length / Math.max(seconds, 1e-9), in.length);
        }
        return 0;
    }
}
