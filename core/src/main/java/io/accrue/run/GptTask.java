package io.accrue.run;

import io.accrue.autograd.Tape;
import io.accrue.data.AdditionTask;
import io.accrue.data.Dataset;
import io.accrue.models.Decoding;
import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.models.Model;
import io.accrue.models.TokenBatch;
import io.accrue.tensor.Arena;
import io.accrue.train.MemoryPlan;
import io.accrue.train.MemoryPlanner;
import io.accrue.train.OptimizerKind;
import io.accrue.train.TrainConfig;
import io.accrue.train.Trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A GPT on token data: the addition task (scored by greedy exact match on held-out problems at the end) or text
 * (scored by the validation loss on {@code val.bin} when the data has one, {@link Validation}).
 *
 * @param data          the sequences
 * @param modelName     the {@code --model} value
 * @param gpt           the shape, with the data's vocabulary and context
 * @param checkpointing activation checkpointing ({@link Gpt#checkpointActivations})
 * @param evalSize      held-out addition problems to decode (0: none)
 * @param trainSize     generated training problems (the held-out ones come after them)
 * @param boundedEval   decode as many prompts together as the micro-batch (under a memory budget), else 250
 */
record GptTask(TokenData data, String modelName, GptConfig gpt, boolean checkpointing, int evalSize, int trainSize,
               boolean boundedEval) implements Task<TokenBatch> {
    /** Prompts decoded together without a memory budget. */
    private static final int EVAL_CHUNK = 250;

    @Override
    public String name() {
        return data.name();
    }

    @Override
    public String description() {
        return data.description();
    }

    @Override
    public Dataset<TokenBatch> train() {
        return data.data();
    }

    @Override
    public Model<TokenBatch> model(long seed) {
        return new Gpt(gpt, seed).checkpointActivations(checkpointing);
    }

    @Override
    public Model<TokenBatch> shapes() {
        return Gpt.shapesOnly(gpt).checkpointActivations(checkpointing);
    }

    /** The generic plan, with advice that names the GPT's own levers (layers, sequence, checkpointing). */
    @Override
    public MemoryPlan plan(TrainConfig config, long budgetBytes) {
        double momentum = config.optimizer() == OptimizerKind.SGD ? config.momentum() : 0;
        if (budgetBytes > 0) {
            return MemoryPlanner.fit(gpt, budgetBytes, config.effectiveBatch(), data.seq(), config.optimizer(),
                    momentum, config.threads(), checkpointing, config.concurrentMicroBatches());
        }
        return Task.super.plan(config, budgetBytes);
    }

    @Override
    public long dataBytes() {
        return data.footprintBytes();
    }

    /**
     * Decoding {@link #EVAL_CHUNK} held-out problems at a time, in an arena of their own sized by a dry run (under a
     * memory budget it decodes B at a time, within the training arena).
     */
    @Override
    public long evaluationBytes() {
        return 4 * evaluationFloats();
    }

    private long evaluationFloats() {
        if (data.addition() == null || evalSize == 0 || boundedEval) {
            return 0;
        }
        AdditionTask t = data.addition();
        int[] prompts = new int[Math.min(EVAL_CHUNK, evalSize)];
        Arrays.fill(prompts, t.promptLength());
        return MemoryPlanner.planDecoding(Gpt.shapesOnly(gpt), prompts, t.answerLength(),
                Runtime.getRuntime().availableProcessors()).activationBytes() / Float.BYTES;
    }

    @Override
    public String modelLine(Model<TokenBatch> model) {
        return String.format(Locale.ROOT, "model %s: L=%d NH=%d C=%d T=%d V=%d, %,d parameters%s", modelName,
                gpt.layers(), gpt.heads(), gpt.width(), gpt.context(), gpt.vocab(), model.parameters().size(),
                checkpointing ? ", activation checkpointing" : "");
    }

    @Override
    public Map<String, String> identity() {
        Map<String, String> m = new LinkedHashMap<>(data.identity());
        m.put("model_config", gpt.toString());
        return m;
    }

    @Override
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", modelName);
        m.put("layers", Integer.toString(gpt.layers()));
        m.put("heads", Integer.toString(gpt.heads()));
        m.put("width", Integer.toString(gpt.width()));
        m.put("context", Integer.toString(gpt.context()));
        m.put("vocab", Integer.toString(gpt.vocab()));
        m.put("dropout", Float.toString(gpt.dropout()));
        return m;
    }

    @Override
    public int unitsPerExample() {
        return data.seq();
    }

    @Override
    public String unit() {
        return "tok";
    }

    /**
     * Greedy decoding of {@link #evalSize} held-out addition problems (the first five are printed), or the validation
     * loss of a text run.
     */
    @Override
    public String metric() {
        return data.validation() != null ? "val_loss"
                : data.addition() != null && evalSize > 0 ? "heldout_exact_match" : null;
    }

    @Override
    public Evaluation evaluate(Trainer<TokenBatch> trainer, String when, Consumer<String> console) {
        if (data.validation() != null) {
            return validate(trainer, when, console);
        }
        AdditionTask t = data.addition();
        if (t == null || evalSize == 0) {
            return null;
        }
        long t0 = System.nanoTime();
        Gpt model = (Gpt) trainer.model();
        int evalChunk = boundedEval ? trainer.config().microBatch() : EVAL_CHUNK;
        // Its own arena, presized for decoding's key/value cache and prompts' pass, which the trainer's arena (sized
        // for a micro-batch's forward and backward) need not fit. Under a budget, B at a time fits the training arena.
        Tape tape = boundedEval ? trainer.tape() : new Tape(trainer.tape().compute(),
                new Arena(Math.min(evaluationFloats(), Arena.MAX_CHUNK)));
        List<long[]> problems = t.heldOut(evalSize, trainSize);
        int correct = 0;
        List<String> shown = new ArrayList<>();
        for (int from = 0; from < problems.size(); from += evalChunk) {
            List<long[]> part = problems.subList(from, Math.min(problems.size(), from + evalChunk));
            int[][] prompts = new int[part.size()][];
            for (int i = 0; i < prompts.length; i++) {
                prompts[i] = AdditionTask.VOCABULARY.encode(t.prompt(part.get(i)[0], part.get(i)[1]));
            }
            int[][] answers = Decoding.greedy(model, tape, prompts, t.answerLength());
            for (int i = 0; i < prompts.length; i++) {
                long[] p = part.get(i);
                String got = AdditionTask.VOCABULARY.decode(answers[i]);
                boolean ok = got.equals(t.answer(p[0], p[1]));
                correct += ok ? 1 : 0;
                if (shown.size() < 5) {
                    shown.add(String.format(Locale.ROOT, "  %d + %d = %s (model wrote %s%s, reversed) %s", p[0],
                            p[1], p[0] + p[1], t.prompt(p[0], p[1]), got, ok ? "✓" : "✗"));
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double fraction = (double) correct / problems.size();
        shown.forEach(console);
        console.accept(String.format(Locale.ROOT, "held-out exact match: %d/%d = %.1f%% (greedy decoding, %s)",
                correct, problems.size(), 100.0 * fraction, Run.clock(seconds)));
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("heldout_problems", problems.size());
        results.put("heldout_exact_match", fraction);
        results.put("eval_seconds", seconds);
        return new Evaluation("heldout_exact_match", fraction, results, seconds);
    }

    /** The per-token mean loss on the validation windows, in micro-batches of the training B. */
    private Evaluation validate(Trainer<TokenBatch> trainer, String when, Consumer<String> console) {
        long t0 = System.nanoTime();
        Validation v = data.validation();
        double loss = v.loss(trainer.model(), trainer.tape(), trainer.config().microBatch());
        double seconds = (System.nanoTime() - t0) / 1e9;
        console.accept(String.format(Locale.ROOT, "validation %s: val_loss %.4f (%,d tokens, %s)", when, loss,
                v.tokens(), Run.clock(seconds)));
        Map<String, Object> results = new LinkedHashMap<>();
        results.put("val_loss", loss);
        results.put("val_tokens", v.tokens());
        return new Evaluation("val_loss", loss, results, seconds, true);
    }
}
