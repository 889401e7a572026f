package io.accrue.cli;

import io.accrue.data.Tokenizers;
import io.accrue.models.GptConfig;
import io.accrue.run.Run;
import io.accrue.run.RunSpec;
import io.accrue.tensor.ParameterStore;
import io.accrue.train.Checkpoint;
import io.accrue.train.HuggingFaceGpt2;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A GPT to sample from, named by a directory: an Accrue run (its {@code checkpoint/}), an Accrue checkpoint directory,
 * or a Hugging Face GPT-2 directory ({@code accrue export}'s, or {@code save_pretrained}'s). The tokenizer is
 * {@code --tokenizer} when given, else the run's, else the one the weights file's metadata names, else GPT-2's for a
 * vocabulary of 50,257.
 *
 * @param gpt       the shape (dropout as trained)
 * @param model     the model's name for messages (a shape name, or the directory)
 * @param tokenizer the tokenizer's name ({@link RunSpec#ADDITION_TOKENIZER} for the addition task)
 * @param digits    the addition task's digits per operand (0 otherwise)
 * @param weights   copies the weights into a {@code Gpt}'s store of {@code gpt}
 * @param notes     what loading had to say (a damaged newest checkpoint replaced by the previous one)
 */
record ModelSource(GptConfig gpt, String model, String tokenizer, int digits, Consumer<ParameterStore> weights,
                   List<String> notes) {

    /**
     * The model in {@code dir}, with {@code tokenizer} (null: the model's own).
     *
     * @throws UsageException one line naming a directory that holds no GPT, or a tokenizer that does not fit it
     */
    static ModelSource resolve(Path dir, String tokenizer) {
        Path run = dir.resolve(Run.CHECKPOINT_DIR);
        if (Checkpoint.exists(dir) || Checkpoint.exists(run)) {
            return accrue(dir, Checkpoint.load(Checkpoint.exists(dir) ? dir : run), tokenizer);
        }
        if (HuggingFaceGpt2.isModelDirectory(dir)) {
            return huggingFace(dir, HuggingFaceGpt2.open(dir), tokenizer);
        }
        throw new UsageException("--checkpoint " + dir + " holds neither an Accrue checkpoint (" + Checkpoint.SIDECAR
                + ") nor a Hugging Face model (" + HuggingFaceGpt2.CONFIG + "); give a run directory, a checkpoint "
                + "directory, or a directory written by accrue export or save_pretrained");
    }

    private static ModelSource accrue(Path dir, Checkpoint cp, String tokenizer) {
        RunSpec run = RunSpec.fromCheckpoint(cp);
        if (run.gpt() == null) {
            throw new UsageException("--checkpoint " + dir + ": a Fashion-MNIST classifier cannot sample text; give a "
                    + "checkpoint of a GPT task (addition or --data)");
        }
        String tok = tokenizer != null ? fitting(dir, tokenizer, run.gpt().vocab()) : run.tokenizer();
        return new ModelSource(run.gpt(), run.model(), tok, run.digits(), cp::restoreWeights, cp.notes());
    }

    private static ModelSource huggingFace(Path dir, HuggingFaceGpt2 hf, String tokenizer) {
        int vocab = hf.config().vocab();
        String tok = tokenizer != null ? tokenizer : hf.tokenizer() != null ? hf.tokenizer()
                : vocab == GptConfig.named("gpt2").vocab() ? "gpt2" : null;
        if (tok == null) {
            throw new UsageException(String.format(Locale.ROOT, "--checkpoint %s: its vocabulary of %,d tokens is not "
                    + "GPT-2's and its weights name no tokenizer; give --tokenizer (%s)", dir, vocab,
                    String.join(", ", Tokenizers.names())));
        }
        if (tok.equals(RunSpec.ADDITION_TOKENIZER)) {
            throw new UsageException("--checkpoint " + dir + ": an addition model samples from its run directory "
                    + "(which knows its digits); give that instead");
        }
        return new ModelSource(hf.config(), dir.toString(), fitting(dir, tok, vocab), 0, hf::restore, List.of());
    }

    /** {@code tokenizer}, after checking that its ids fit a vocabulary of {@code vocab}. */
    private static String fitting(Path dir, String tokenizer, int vocab) {
        int v;
        try {
            v = Tokenizers.byName(tokenizer).vocabSize();
        } catch (IllegalArgumentException e) {
            throw new UsageException("--tokenizer: " + e.getMessage());
        }
        if (v > vocab) {
            throw new UsageException(String.format(Locale.ROOT, "--tokenizer %s has %,d tokens, more than the "
                    + "vocabulary of %,d of --checkpoint %s; give the tokenizer the model was trained with", tokenizer,
                    v, vocab, dir));
        }
        return tokenizer;
    }

    /** Copies the weights into {@code store}. */
    void restore(ParameterStore store) {
        weights.accept(store);
    }
}
