package io.accrue.cli;

import io.accrue.run.RunSpec;
import io.accrue.data.AdditionTask;
import io.accrue.data.CharVocabulary;
import io.accrue.data.Tokenizer;
import io.accrue.data.Tokenizers;
import io.accrue.models.Decoding;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.autograd.Tape;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code accrue sample}: continues a prompt with a trained checkpoint, an exported or a Hugging Face GPT-2 directory
 * ({@link ModelSource}), the prompt encoded and the continuation decoded with the run's tokenizer ({@code addition},
 * {@code bytes} or {@code gpt2}) or {@code --tokenizer}.
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

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1", description = "Seed of sampling.")
    long seed;

    @Option(names = "--heap-only", hidden = true, description = "Validate, plan, print the Java heap the plan needs "
            + "in MiB (the launcher's -Xmx) and stop.")
    boolean heapOnly;

    @Override
    public Integer call() {
        ModelSource source = ModelSource.resolve(checkpoint, tokenizerName);
        source.notes().forEach(n -> spec.commandLine().getErr().println("accrue: " + n));
        GptConfig cfg = source.gpt().withDropout(0f);
        boolean addition = RunSpec.ADDITION_TOKENIZER.equals(source.tokenizer());
        if (temperature < 0 || !Double.isFinite(temperature)) {
            throw new UsageException("--temperature must be ≥ 0, got " + temperature);
        }
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
        int threads = Runtime.getRuntime().availableProcessors();
        // the longest forward pass decoding runs: the prompt and all but the last new token, at most the context
        int t = (int) Math.max(1, Math.min(cfg.context(), (long) in.length + n));
        Gpt shapes = Gpt.shapesOnly(cfg);
        MemoryPlan plan = MemoryPlanner.planInference(shapes, shapes.planningBatch(1, t), 1, threads);
        long heapMiB = MemoryPlan.xmxMiB(plan.heapBytes());
        ErrorHandlers.planned(plan.totalBytes(), heapMiB << 20);
        MachineMemory.refuseBeyond(plan.totalBytes(), "sampling from model " + source.model(), "sample from a smaller "
                + "model");
        if (heapOnly) {
            spec.commandLine().getOut().println(heapMiB);
            return 0;
        }
        Gpt model = new Gpt(cfg, 0);
        source.restore(model.parameters());
        try (Compute compute = new Compute(threads)) {
            Tape tape = new Tape(compute, new Arena(Math.min(plan.activationBytes() / Float.BYTES, Arena.MAX_CHUNK)));
            int[] outTokens = Decoding.generate(model, tape, new int[][] {in}, n, temperature, seed)[0];
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
        }
        return 0;
    }
}
