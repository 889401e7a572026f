package io.accrue.run;

import io.accrue.data.AdditionTask;
import io.accrue.data.FashionMnist;
import io.accrue.data.Tokenizers;
import io.accrue.models.CnnConfig;
import io.accrue.models.GptConfig;
import io.accrue.nn.NormKind;
import io.accrue.train.Checkpoint;
import io.accrue.train.HuggingFaceGpt2;
import io.accrue.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * A whole run as one validated, immutable value: what is learned, from which data, by which model, how it is
 * trained, where it is written, and how often it is checkpointed and evaluated. Every front end maps its options
 * onto one ({@link #builder}), {@link Run} executes it, and every checkpoint stores it as JSON ({@link RunSpecJson}),
 * so a run can be continued, repeated or read by other tools.
 *
 * @param task            what is learned
 * @param model           the model's name or JSON file as given ({@code adder}, {@code tiny}, {@code cnn}, …)
 * @param gpt             a GPT task's shape with the data's vocabulary and context and the dropout; null for images
 * @param norm            Fashion-MNIST's normalization after each convolution; null for the GPT tasks
 * @param data            the text file, or the Fashion-MNIST directory; null for the addition task
 * @param digits          digits per operand of the addition task (0 otherwise)
 * @param trainSize       generated addition problems, or the first N training images (0: all, or not applicable)
 * @param evalSize        held-out problems or the first N test images scored (0: no evaluation; {@link #ALL}: the
 *                        whole test set)
 * @param tokenizer       {@code addition} (digits, '+', '='), {@code bytes} (V 256), {@code gpt2} (V 50,257) or another
 *                        {@link io.accrue.data.Tokenizers} name for text; null for images
 * @param checkpointing   activation checkpointing (a GPT keeps each block's output and recomputes the block)
 * @param memoryBudget    bytes the planner fits B and K into (0: B and K as configured)
 * @param train           the training configuration
 * @param out             the run directory
 * @param checkpointEvery optimizer steps between checkpoints (0: only at the end)
 * @param evalEvery       text task: optimizer steps between validation losses (also after the last step; 0: none)
 * @param evalTokens      text task: tokens of {@code val.bin} each validation scores (whole sequences, at least one)
 * @param checkpointMinutes minutes of training between checkpoints, checked after every micro-batch, so a checkpoint
 *                        may fall inside a window (0: none by time); there is always one at the end and on a stop
 * @param initFrom        text task: a Hugging Face GPT-2 directory ({@link HuggingFaceGpt2}) whose weights a new run
 *                        starts from (its shape is {@link #gpt}'s, its vocabulary the run's); null: random weights
 */
public record RunSpec(TaskKind task, String model, GptConfig gpt, NormKind norm, Path data, int digits, int trainSize,
                      int evalSize, String tokenizer, boolean checkpointing, long memoryBudget, TrainConfig train,
                      Path out, long checkpointEvery, long evalEvery, long evalTokens, double checkpointMinutes,
                      Path initFrom) {

    /** {@link #checkpointMinutes} by default: a checkpoint every half hour of training. */
    public static final double DEFAULT_CHECKPOINT_MINUTES = 30;

    /** {@link #evalSize}: every test example. */
    public static final int ALL = -1;

    /** The tokenizer of the addition task. */
    public static final String ADDITION_TOKENIZER = "addition";
    /** Byte-level text: each byte one token. */
    public static final String BYTES_TOKENIZER = "bytes";

    public RunSpec {
        if (task == null) {
            throw new IllegalArgumentException("task must be set: addition, text or fashion-mnist");
        }
        if (train == null) {
            throw new IllegalArgumentException("train (the training configuration) must be set");
        }
        if (out == null) {
            throw new IllegalArgumentException("out (the run directory) must be set");
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be ≥ 0, got " + checkpointEvery);
        }
        if (!(checkpointMinutes >= 0) || Double.isInfinite(checkpointMinutes)) {
            throw new IllegalArgumentException("--checkpoint-minutes must be a finite number ≥ 0, got "
                    + checkpointMinutes);
        }
        if (memoryBudget < 0) {
            throw new IllegalArgumentException("--memory must be positive, got " + memoryBudget + " bytes");
        }
        if (evalSize < 0 && !(evalSize == ALL && task == TaskKind.FASHION_MNIST)) {
            throw new IllegalArgumentException("--eval-size must be ≥ 0, got " + evalSize);
        }
        if (trainSize < 0) {
            throw new IllegalArgumentException("--train-size must be a positive integer, got " + trainSize);
        }
        if (evalEvery < 0) {
            throw new IllegalArgumentException("--eval-every must be ≥ 0, got " + evalEvery);
        }
        if (evalTokens < 0 || evalEvery > 0 && evalTokens == 0) {
            throw new IllegalArgumentException("--eval-tokens must be a positive integer, got " + evalTokens);
        }
        if (task != TaskKind.TEXT && (evalEvery != 0 || evalTokens != 0)) {
            throw new IllegalArgumentException("--eval-every and --eval-tokens apply to --task text (a validation "
                    + "loss on val.bin), not " + task.id());
        }
        if (initFrom != null && task != TaskKind.TEXT) {
            throw new IllegalArgumentException("--init-from applies to --task text (fine-tuning a GPT-2 on --data), "
                    + "not " + task.id());
        }
        switch (task) {
            case ADDITION -> {
                require(gpt != null && norm == null && data == null, "the addition task generates its data and "
                        + "trains a GPT (no --data, no --norm)");
                require(digits > 0, "--digits must be a positive integer, got " + digits);
                require(trainSize > 0, "--train-size must be a positive integer, got " + trainSize);
                require(ADDITION_TOKENIZER.equals(tokenizer), "the addition task's tokenizer is 'addition', got "
                        + tokenizer);
            }
            case TEXT -> {
                require(gpt != null && norm == null && data != null, "--task text needs --data FILE.txt, the text "
                        + "file to train on (and no --norm: a GPT uses LayerNorm)");
                require(tokenizer != null && !tokenizer.isBlank(), "the text task needs a tokenizer: bytes or gpt2");
            }
            case FASHION_MNIST -> {
                require(gpt == null && norm != null && data != null && tokenizer == null,
                        "fashion-mnist trains a CNN on images: a norm and a data directory, no GPT shape or tokenizer");
                require(norm != NormKind.RMS, "--norm rms is not offered for images; use group, layer, batch or none");
                require(!checkpointing, "--checkpointing applies to the GPT tasks (addition, text), not "
                        + "fashion-mnist");
            }
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** A builder with {@code task}'s defaults. */
    public static Builder builder(TaskKind task) {
        return new Builder(task);
    }

    /** This spec with {@code train} as its training configuration (e.g. B and K from a memory plan). */
    public RunSpec withTrain(TrainConfig config) {
        return new RunSpec(task, model, gpt, norm, data, digits, trainSize, evalSize, tokenizer, checkpointing,
                memoryBudget, config, out, checkpointEvery, evalEvery, evalTokens, checkpointMinutes, initFrom);
    }

    /** This spec writing into {@code dir}. */
    public RunSpec withOut(Path dir) {
        return new RunSpec(task, model, gpt, norm, data, digits, trainSize, evalSize, tokenizer, checkpointing,
                memoryBudget, train, dir, checkpointEvery, evalEvery, evalTokens, checkpointMinutes, initFrom);
    }

    /** A builder holding this spec's values, to change some (e.g. the options given with {@code --resume}). */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The spec as pretty-printed JSON ({@link RunSpecJson}). */
    public String toJson() {
        return RunSpecJson.write(this);
    }

    /**
     * The spec {@code json} describes, validated.
     *
     * @throws IllegalArgumentException naming the bad or unknown field
     */
    public static RunSpec fromJson(String json) {
        return RunSpecJson.read(json);
    }

    /**
     * The spec a checkpoint was saved with.
     *
     * @throws IllegalArgumentException when the checkpoint holds none (saved before run specs) or a bad one
     */
    public static RunSpec fromCheckpoint(Checkpoint cp) {
        if (cp.run() == null) {
            throw new IllegalArgumentException(cp.dir().resolve(Checkpoint.SIDECAR) + " holds no run description; "
                    + "give the run's options with --resume");
        }
        try {
            return RunSpecJson.fromMap(cp.run());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(cp.dir().resolve(Checkpoint.SIDECAR) + ": " + e.getMessage());
        }
    }

    /**
     * The task this spec describes, with its data loaded and checked.
     *
     * @throws IllegalArgumentException one line naming a missing, unreadable or unusable data file
     */
    public Task<?> loadTask() {
        return loadTask(Prepare.Listener.NONE);
    }

    /**
     * {@link #loadTask()}, following the preparation of a text file into {@code <out>/data} (a tokenizer other than
     * bytes on a text file) with {@code preparing}.
     */
    public Task<?> loadTask(Prepare.Listener preparing) {
        return switch (task) {
            case ADDITION -> new GptTask(TokenData.addition(digits, trainSize, train.seed()), model, gpt,
                    checkpointing, evalSize, trainSize, memoryBudget > 0);
            case TEXT -> new GptTask(TokenData.text(this, preparing), model, gpt, checkpointing, 0, 0,
                    memoryBudget > 0);
            case FASHION_MNIST -> VisionTask.load(CnnConfig.Layout.of(model), norm, data,
                    trainSize == 0 ? null : trainSize, evalSize == ALL ? null : evalSize);
        };
    }

    /**
     * Builds a {@link RunSpec} from the options a user gives, each with the task's default when not given: the
     * model ({@link TaskKind#defaultModel}), the data, the sizes, and the training configuration
     * ({@link TaskKind#defaults} with {@link #train}'s settings applied on top).
     */
    public static final class Builder {
        private final TaskKind task;
        private String model;
        private GptConfig shape;
        private Path data;
        private Integer context;
        private Float dropout;
        private Integer digits;
        private Integer trainSize;
        private Integer evalSize;
        private NormKind norm;
        private boolean checkpointing;
        private long memoryBudget;
        private Path out;
        private long checkpointEvery;
        private double checkpointMinutes = DEFAULT_CHECKPOINT_MINUTES;
        private String tokenizer;
        private Long evalEvery;
        private Long evalTokens;
        private Path initFrom;
        private Consumer<TrainConfig.Builder> train = b -> { };
        /** The spec this builder started from ({@link RunSpec#toBuilder}), or null for the task's defaults. */
        private final RunSpec base;

        private Builder(TaskKind task) {
            if (task == null) {
                throw new IllegalArgumentException("task must be set: addition, text or fashion-mnist");
            }
            this.task = task;
            this.base = null;
        }

        /**
         * A builder whose every value is {@code s}'s: its model name and resolved shape (unless {@link #model} or
         * {@link #shape} is given), data, sizes, and its training configuration as the base that {@link #train}'s
         * settings change.
         */
        private Builder(RunSpec s) {
            this.task = s.task();
            this.base = s;
            this.model = s.model();
            this.shape = s.gpt();
            this.data = s.data();
            this.digits = s.task() == TaskKind.ADDITION ? s.digits() : null;
            this.trainSize = s.task() != TaskKind.TEXT ? s.trainSize() : null;
            this.evalSize = s.task() != TaskKind.TEXT ? s.evalSize() : null;
            this.norm = s.norm();
            this.checkpointing = s.checkpointing();
            this.memoryBudget = s.memoryBudget();
            this.out = s.out();
            this.checkpointEvery = s.checkpointEvery();
            this.checkpointMinutes = s.checkpointMinutes();
            this.initFrom = s.initFrom();
            if (s.task() == TaskKind.TEXT) {
                this.tokenizer = s.tokenizer();
                this.evalEvery = s.evalEvery();
                this.evalTokens = s.evalTokens();
            }
        }

        /** A shape name or a JSON model file ({@link ModelShapes}); GPT tasks only. */
        public Builder model(String v) {
            if (base != null && v != null) {
                shape = null; // a model given anew is resolved anew
            }
            model = v;
            return this;
        }

        /** A GPT shape given directly (its vocabulary and context follow the data), named {@code custom}. */
        public Builder shape(GptConfig v) {
            if (base != null) {
                model = null;
            }
            shape = v;
            return this;
        }

        public Builder data(Path v) {
            data = v;
            return this;
        }

        /** Sequence length T of the text task (default: the model's context). */
        public Builder context(Integer v) {
            context = v;
            return this;
        }

        public Builder dropout(Float v) {
            dropout = v;
            return this;
        }

        public Builder digits(Integer v) {
            digits = v;
            return this;
        }

        public Builder trainSize(Integer v) {
            trainSize = v;
            return this;
        }

        public Builder evalSize(Integer v) {
            evalSize = v;
            return this;
        }

        public Builder norm(NormKind v) {
            norm = v;
            return this;
        }

        public Builder checkpointing(boolean v) {
            checkpointing = v;
            return this;
        }

        /** A memory budget in bytes: the planner picks the largest B that fits and K = N/B. */
        public Builder memoryBudget(long v) {
            memoryBudget = v;
            return this;
        }

        public Builder out(Path v) {
            out = v;
            return this;
        }

        public Builder checkpointEvery(long v) {
            checkpointEvery = v;
            return this;
        }

        /** Minutes of training between checkpoints (0: none by time); default {@link #DEFAULT_CHECKPOINT_MINUTES}. */
        public Builder checkpointMinutes(double v) {
            checkpointMinutes = v;
            return this;
        }

        /**
         * The text task's tokenizer: {@code bytes} (the default for a text file) or {@code gpt2}; a prepared
         * directory's is its own (given, it must match).
         */
        public Builder tokenizer(String v) {
            tokenizer = v;
            return this;
        }

        /**
         * Text task: optimizer steps between validation losses (0: none). Default {@link TaskKind#EVAL_EVERY} when the
         * data has a validation split (a prepared directory, or a text file with a tokenizer other than bytes), else 0.
         */
        public Builder evalEvery(Long v) {
            evalEvery = v;
            return this;
        }

        /** Text task: tokens of {@code val.bin} each validation scores. Default {@link TaskKind#EVAL_TOKENS}. */
        public Builder evalTokens(Long v) {
            evalTokens = v;
            return this;
        }

        /**
         * Text task: start from the weights of a Hugging Face GPT-2 directory, whose {@code config.json} gives the
         * shape (no {@link #model}) and whose vocabulary the run's: the tokenizer is then GPT-2's for its
         * vocabulary of 50,257, else bytes, unless given or the data's own, and the data's token ids must fit it.
         * A {@link #context} shorter than its {@code n_positions} crops the position embeddings.
         */
        public Builder initFrom(Path dir) {
            initFrom = dir;
            return this;
        }

        /** Settings applied to the task's default {@link TrainConfig.Builder}. */
        public Builder train(Consumer<TrainConfig.Builder> settings) {
            train = settings;
            return this;
        }

        /**
         * The validated spec; without {@link #out} the run directory is {@code runs/<task>-<yyyyMMdd-HHmmss>}.
         *
         * @throws IllegalArgumentException naming the option that does not apply or the bad value
         */
        public RunSpec build() {
            if (initFrom != null && base == null && (model != null || shape != null)) {
                throw new IllegalArgumentException("--init-from takes the model's shape from " + initFrom.resolve(
                        HuggingFaceGpt2.CONFIG) + "; drop --model");
            }
            String modelName = model != null ? model : shape != null ? "custom" : initFrom != null
                    ? initFrom.toString() : task.defaultModel();
            TrainConfig.Builder tb = base != null ? TrainConfig.builder().from(base.train()) : task.defaults(modelName);
            train.accept(tb);
            TrainConfig config = tb.build();
            Path dir = out != null ? out : Path.of("runs", task.id() + "-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
            if (!task.gpt()) {
                gptOnly("--model FILE.json", shape != null);
                CnnConfig.Layout layout = CnnConfig.Layout.of(modelName);
                gptOnly("--context", context != null);
                gptOnly("--dropout", dropout != null);
                gptOnly("--digits", digits != null);
                gptOnly("--checkpointing", checkpointing);
                gptOnly("--init-from", initFrom != null);
                textOnly();
                return new RunSpec(task, layout.id(), null, norm != null ? norm : NormKind.GROUP,
                        data != null ? data : FashionMnist.defaultDirectory(), 0,
                        trainSize != null ? trainSize : task.defaultTrainSize(),
                        evalSize != null ? evalSize : task.defaultEvalSize(), null, false, memoryBudget, config, dir,
                        checkpointEvery, 0, 0, checkpointMinutes, null);
            }
            if (norm != null) {
                throw new IllegalArgumentException("--norm applies to --task fashion-mnist only; a GPT uses LayerNorm");
            }
            GptConfig shape = this.shape != null ? this.shape : initFrom != null
                    ? HuggingFaceGpt2.readConfig(initFrom) : ModelShapes.resolve(modelName);
            float p = dropout != null ? dropout : shape.dropout();
            if (task == TaskKind.ADDITION) {
                if (data != null) {
                    throw new IllegalArgumentException("--data applies to --task text or fashion-mnist; the addition "
                            + "task generates its data (drop --task addition or --data)");
                }
                if (context != null) {
                    throw new IllegalArgumentException("--context applies to --data only; the addition task sets its "
                            + "own length");
                }
                textOnly();
                if (initFrom != null) {
                    throw new IllegalArgumentException("--init-from applies to --task text (fine-tuning a GPT-2 on "
                            + "--data), not addition");
                }
                int d = digits != null ? digits : 3;
                positive("--digits", d);
                int problems = trainSize != null ? trainSize : task.defaultTrainSize();
                positive("--train-size", problems);
                GptConfig gpt = shape.withVocab(AdditionTask.VOCABULARY.size())
                        .withContext(new AdditionTask(d, 0).seq()).withDropout(p);
                return new RunSpec(task, modelName, gpt, null, null, d, problems,
                        evalSize != null ? evalSize : task.defaultEvalSize(), ADDITION_TOKENIZER, checkpointing,
                        memoryBudget, config, dir, checkpointEvery, 0, 0, checkpointMinutes, null);
            }
            if (data == null) {
                throw new IllegalArgumentException("--task text needs --data FILE.txt, the text file to train on");
            }
            if (digits != null) {
                throw new IllegalArgumentException("--digits applies to the addition task only");
            }
            int t = context != null ? context : shape.context();
            positive("--context", t);
            if (initFrom != null && t > shape.context()) {
                throw new IllegalArgumentException("--context " + t + " exceeds the n_positions " + shape.context()
                        + " of --init-from " + initFrom + "; give --context ≤ " + shape.context());
            }
            String tok;
            int vocab;
            boolean heldOut;
            if (Files.isDirectory(data)) {
                PreparedData prepared = PreparedData.open(data, tokenizer, false);
                // A resumed run keeps its own tokenizer and vocabulary: data re-prepared since is refused when the
                // task loads it, naming the run's model, not an option the user did not give.
                boolean resumed = base != null && data.equals(base.data())
                        && java.util.Objects.equals(tokenizer, base.tokenizer());
                if (!resumed && tokenizer != null && !tokenizer.equals(prepared.tokenizer())) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "--tokenizer %s does not match "
                            + "--data %s, prepared with the %s tokenizer (V %,d); drop --tokenizer, or prepare the "
                            + "text again with --tokenizer %s", tokenizer, data, prepared.tokenizer(),
                            prepared.vocab(), tokenizer));
                }
                tok = resumed ? base.tokenizer() : prepared.tokenizer();
                vocab = resumed ? base.gpt().vocab() : prepared.vocab();
                heldOut = prepared.valTokens() > 0;
            } else {
                tok = tokenizer != null ? tokenizer : initFrom != null ? importTokenizer(shape.vocab())
                        : BYTES_TOKENIZER;
                vocab = Tokenizers.byName(tok).vocabSize();
                heldOut = !tok.equals(BYTES_TOKENIZER);
            }
            if (initFrom != null) {
                if (vocab > shape.vocab()) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT, "--init-from %s has a vocabulary "
                            + "of %,d tokens, but the data's tokenizer %s has %,d; fine-tune on text tokenized for "
                            + "this model (--tokenizer %s)", initFrom, shape.vocab(), tok, vocab,
                            importTokenizer(shape.vocab())));
                }
                vocab = shape.vocab(); // the model's: the data's ids fit it
            }
            long every = evalEvery != null ? evalEvery : heldOut ? TaskKind.EVAL_EVERY : 0;
            long evalTok = evalTokens != null ? evalTokens : every > 0 ? TaskKind.EVAL_TOKENS : 0;
            if (every > 0 && !heldOut) {
                throw new IllegalArgumentException(Files.isDirectory(data) ? "--eval-every: --data " + data + " has no "
                        + PreparedData.VAL + " to validate on; prepare it with accrue prepare, or drop --eval-every"
                        : "--eval-every: a text file read as bytes is all training data, with nothing held out; "
                        + "prepare it first (accrue prepare --data " + data + " --tokenizer bytes --out DIR) and "
                        + "train on DIR, or use --tokenizer gpt2 (prepared on the fly with a validation split)");
            }
            GptConfig gpt = shape.withVocab(vocab).withContext(t).withDropout(p);
            return new RunSpec(task, modelName, gpt, null, data, 0, 0, 0, tok, checkpointing, memoryBudget, config,
                    dir, checkpointEvery, every, evalTok, checkpointMinutes, initFrom);
        }

        /** The tokenizer of an imported vocabulary: GPT-2's for its 50,257 tokens, else bytes. */
        private static String importTokenizer(int vocab) {
            return vocab == GptConfig.named("gpt2").vocab() ? "gpt2" : BYTES_TOKENIZER;
        }

        private void textOnly() {
            if (tokenizer != null || evalEvery != null || evalTokens != null) {
                throw new IllegalArgumentException((tokenizer != null ? "--tokenizer" : evalEvery != null
                        ? "--eval-every" : "--eval-tokens") + " applies to --task text (--data), not " + task.id());
            }
        }

        private void gptOnly(String option, boolean given) {
            if (given) {
                throw new IllegalArgumentException(option + " applies to the GPT tasks (addition, text), not "
                        + task.id());
            }
        }

        private static void positive(String option, long v) {
            if (v <= 0) {
                throw new IllegalArgumentException(option + " must be a positive integer, got " + v);
            }
        }
    }

    /** The task's name and the model, in one line. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s with %s %s", task.id(), model, gpt != null ? gpt : norm);
    }
}
