package io.accrue.run;

import io.accrue.data.AdditionTask;
import io.accrue.data.ByteTokenizer;
import io.accrue.data.Dataset;
import io.accrue.data.TokenShard;
import io.accrue.data.TokenWindows;
import io.accrue.data.Tokenizers;
import io.accrue.models.TokenBatch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The token data a GPT task trains on: the generated addition problems, the bytes of a text file, or token shards
 * ({@link PreparedData}: prepared by {@code accrue prepare}, by nanoGPT's scripts, or from a text file on the fly
 * into the run directory). Files and shards are memory-mapped ({@link TokenShard}), never read into the heap.
 *
 * @param description one line for the console
 * @param data        the training examples
 * @param seq         T, tokens per training sequence
 * @param vocab       V
 * @param addition    the addition task, or null for text
 * @param identity    strings that name the data exactly (saved in checkpoints, compared on resume)
 * @param name        the task's name: {@code addition} or {@code text}
 * @param validation  the validation windows, or null when the run has no validation
 */
public record TokenData(String description, Dataset<TokenBatch> data, int seq, int vocab, AdditionTask addition,
                        Map<String, String> identity, String name, Validation validation) {

    /** The subdirectory of the run directory a text file is prepared into for a tokenizer other than bytes. */
    public static final String ON_THE_FLY_DIR = "data";

    public static TokenData addition(int digits, int trainSize, long seed) {
        AdditionTask t = new AdditionTask(digits, seed);
        Map<String, String> id = new LinkedHashMap<>();
        id.put("task", "addition");
        id.put("digits", Integer.toString(digits));
        id.put("train_size", Integer.toString(trainSize));
        id.put("task_seed", Long.toString(seed));
        String example = t.prompt(42, 517 % (long) Math.pow(10, digits)) + t.answer(42, 517 % (long) Math.pow(10, digits));
        return new TokenData(trainSize + " generated " + digits + "-digit additions like \"" + example
                + "\" (sum reversed, loss on the answer only)", t.trainingSet(trainSize), t.seq(),
                AdditionTask.VOCABULARY.size(), t, id, "addition", null);
    }

    /**
     * A generous estimate of the heap the examples occupy: 8 bytes per token plus 64 per sequence for generated
     * problems; for mapped text the epoch order's 4 bytes per window (twice: the order and a window's copy).
     */
    public long footprintBytes() {
        if (addition != null) {
            return data.size() * ((seq + 1) * 8L + 64);
        }
        return data.size() * 8L + (1 << 20);
    }

    /**
     * The text task's data: a prepared directory, a text file's bytes ({@code bytes} tokenizer), or a text file
     * prepared on the fly into {@code <out>/data} for any other tokenizer (reused when it is already there for the
     * same file and tokenizer).
     *
     * @throws IllegalArgumentException one line naming missing, unusable or mismatched data and the fix
     */
    static TokenData text(RunSpec spec, Prepare.Listener listener) {
        Path data = spec.data();
        int t = spec.gpt().context();
        if (Files.isDirectory(data)) {
            return prepared(PreparedData.open(data, spec.tokenizer(), true), spec, null);
        }
        if (ByteTokenizer.NAME.equals(spec.tokenizer())) {
            return bytes(data, t);
        }
        checkReadable(data, t);
        Path dir = spec.out().resolve(ON_THE_FLY_DIR);
        String sha = PreparedData.sha256(data);
        PreparedData p = reusable(dir, data, sha, spec.tokenizer());
        if (p == null) {
            if (Files.exists(spec.out()) && !Files.isDirectory(spec.out())) {
                throw new IllegalArgumentException("--out " + spec.out() + " is a file; give a directory (it is "
                        + "created if missing)");
            }
            boolean fresh = !Files.exists(spec.out());
            boolean done = false;
            try {
                p = Prepare.run(new Prepare.Options(List.of(data), Tokenizers.byName(spec.tokenizer()),
                        Prepare.DEFAULT_VAL_FRACTION, dir), listener);
                done = true;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                if (!done && fresh) {
                    try {
                        Files.deleteIfExists(spec.out()); // the run directory this created, left empty
                    } catch (IOException ignored) {
                        // not empty after all: leave it
                    }
                }
            }
        }
        return prepared(p, spec, sha);
    }

    /** The data prepared on the fly earlier in {@code dir}, if it is of {@code file} (same SHA-256) and tokenizer. */
    private static PreparedData reusable(Path dir, Path file, String sha, String tokenizer) {
        if (!Files.isRegularFile(dir.resolve(PreparedData.META))) {
            return null;
        }
        try {
            PreparedData p = PreparedData.open(dir, null, true);
            boolean same = p.tokenizer().equals(tokenizer) && p.sources().size() == 1
                    && sha.equals(p.sources().getFirst().get("sha256"));
            return same ? p : null;
        } catch (IllegalArgumentException e) {
            return null; // damaged: prepared again
        }
    }

    /** Windows of T+1 tokens of prepared shards, and the validation windows when the spec validates. */
    static TokenData prepared(PreparedData p, RunSpec spec, String sourceSha) {
        int t = spec.gpt().context();
        int vocab = spec.gpt().vocab();
        Path where = sourceSha != null ? spec.data() : p.dir();
        if (!p.tokenizer().equals(spec.tokenizer()) || p.vocab() > vocab) { // a larger model vocabulary holds the ids
            throw new IllegalArgumentException(String.format(Locale.ROOT, "--data %s holds tokens of the %s "
                    + "tokenizer (V %,d), but the run's model reads %s (V %,d); train on data prepared with --tokenizer "
                    + "%s, or start a new run for this data", where, p.tokenizer(), p.vocab(), spec.tokenizer(),
                    vocab, spec.tokenizer()));
        }
        TokenShard train = p.train();
        if (train.size() < 2) {
            throw new IllegalArgumentException(p.dir().resolve(PreparedData.TRAIN) + " holds " + train.size()
                    + " tokens; training needs at least 2 (ideally many times the context " + t + "); prepare more "
                    + "text");
        }
        TokenWindows windows = new TokenWindows(train, t, vocab, p.trainSha256());
        Validation validation = null;
        if (spec.evalEvery() > 0) {
            TokenShard val = p.val();
            if (val == null || val.size() == 0) {
                throw new IllegalArgumentException("--data " + where + " has no " + PreparedData.VAL + " to validate "
                        + "on; prepare it with accrue prepare (which writes one), or pass --eval-every 0");
            }
            validation = Validation.of(new TokenWindows(val, t, vocab), spec.evalTokens(), "prepare with a larger "
                    + "--val-fraction, train with a smaller --context, or pass --eval-every 0 to train without "
                    + "validation");
        }
        Map<String, String> id = new LinkedHashMap<>();
        id.put("task", "tokens");
        id.put("data", where.toString());
        if (sourceSha != null) {
            id.put("data_sha256", sourceSha);
        } else {
            id.put("train_sha256", p.trainSha256());
        }
        id.put("tokenizer", p.tokenizer());
        id.put("context", Integer.toString(t));
        String val = validation == null ? "no validation" : String.format(Locale.ROOT,
                "validation on %,d tokens of %s every %,d steps", validation.tokens(), PreparedData.VAL,
                spec.evalEvery());
        String desc = String.format(Locale.ROOT, "%,d tokens of %s (%s, V %,d%s) in %,d sequences of up to %d+1 "
                        + "tokens, memory-mapped; %s", train.size(), where, p.tokenizer(), p.vocab(),
                sourceSha != null ? ", prepared into " + p.dir() : "", windows.size(), t, val);
        return new TokenData(desc, windows, t, vocab, null, id, "text", validation);
    }

    /**
     * Byte-level sequences of T+1 bytes of {@code file}, stride T, so every byte after the first is a target once;
     * the file is memory-mapped.
     */
    public static TokenData bytes(Path file, int seq) {
        long n = checkReadable(file, seq);
        String sha = PreparedData.sha256(file);
        TokenWindows windows = new TokenWindows(TokenShard.map(file, 1), seq, 256, sha);
        Map<String, String> id = new LinkedHashMap<>();
        id.put("task", "bytes");
        id.put("data", file.toString());
        id.put("data_sha256", sha);
        id.put("context", Integer.toString(seq));
        return new TokenData(String.format("%,d bytes of %s in %,d sequences of up to %d+1 bytes (V 256)", n,
                file, windows.size(), seq), windows, seq, 256, null, id, "text", null);
    }

    /** The size of {@code file}, after checking that it is a readable text file of at least 2 bytes. */
    private static long checkReadable(Path file, int seq) {
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("--data " + file + ": no such file; give a UTF-8 text file to train on");
        }
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("--data " + file + ": is a directory without " + PreparedData.TRAIN
                    + "; give a UTF-8 text file, or a directory prepared by accrue prepare");
        }
        long n;
        try (InputStream in = Files.newInputStream(file)) {
            n = Files.size(file);
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("--data " + file + ": permission denied; make it readable (chmod +r)");
        } catch (IOException e) {
            throw new IllegalArgumentException("--data " + file + ": cannot read (" + e.getMessage() + ")");
        }
        if (n == 0) {
            throw new IllegalArgumentException("--data " + file + ": is empty; give a text file with at least 2 bytes "
                    + "(ideally many times the context " + seq + ")");
        }
        if (n < 2) {
            throw new IllegalArgumentException("--data " + file + ": has only " + n + " byte; give at least 2");
        }
        return n;
    }
}
