package io.accrue.spark;

import io.accrue.data.AdditionTask;
import io.accrue.data.Dataset;
import io.accrue.data.SequenceDataset;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Model;
import io.accrue.models.TokenBatch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A GPT on the data of {@code accrue train}: the generated addition task ({@code dataFile} null) or byte-level
 * sequences of a text file, T+1 bytes at stride T (the file must be readable at the same path on every executor,
 * e.g. a shared file system, or shipped with {@code spark-submit --files} and named by its base name).
 *
 * @param layers    L
 * @param heads     NH
 * @param width     C
 * @param context   T
 * @param vocab     V
 * @param dropout   dropout probability
 * @param seed      model and task seed
 * @param digits    digits per operand of the addition task
 * @param trainSize generated addition problems
 * @param dataFile  text file, or null for the addition task
 */
public record GptRecipe(int layers, int heads, int width, int context, int vocab, float dropout, long seed,
                        int digits, int trainSize, String dataFile) implements WorkerRecipe<TokenBatch> {

    public static GptRecipe of(GptConfig gpt, long seed, int digits, int trainSize, String dataFile) {
        return new GptRecipe(gpt.layers(), gpt.heads(), gpt.width(), gpt.context(), gpt.vocab(), gpt.dropout(), seed,
                digits, trainSize, dataFile);
    }

    public GptConfig config() {
        return new GptConfig(layers, heads, width, context, vocab, dropout);
    }

    @Override
    public Model<TokenBatch> model() {
        return new Gpt(config(), seed);
    }

    @Override
    public Dataset<TokenBatch> data() {
        if (dataFile == null) {
            return new AdditionTask(digits, seed).trainingSet(trainSize);
        }
        return bytes(Path.of(dataFile), context);
    }

    /** Sequences of T+1 bytes of {@code file} at stride T, as {@code accrue train --data} cuts them. */
    static SequenceDataset bytes(Path file, int seq) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read training data " + file + " on this machine", e);
        }
        if (bytes.length < 2) {
            throw new IllegalArgumentException(file + " holds " + bytes.length + " bytes; need at least 2");
        }
        List<int[]> seqs = new ArrayList<>();
        for (int start = 0; start + 1 < bytes.length; start += seq) {
            int end = Math.min(bytes.length, start + seq + 1);
            int[] s = new int[end - start];
            for (int i = 0; i < s.length; i++) {
                s[i] = bytes[start + i] & 0xff;
            }
            seqs.add(s);
        }
        return new SequenceDataset(seqs, seq);
    }
}
