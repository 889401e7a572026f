package io.accrue.run;

import io.accrue.models.GptConfig;
import io.accrue.nn.NormKind;
import io.accrue.train.AccumulationSchedule;
import io.accrue.train.Json;
import io.accrue.train.OptimizerKind;
import io.accrue.train.ScheduleKind;
import io.accrue.train.TrainConfig;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@link RunSpec} as JSON objects with snake_case keys, the names Python users know: what {@code checkpoint.json}
 * stores under {@code "run"} and {@code accrue train --print-spec} prints. Reading is strict: every key is known, every
 * value has its type, and the result passes {@link RunSpec}'s and {@link TrainConfig}'s validation; an infinite
 * {@code clip_norm} (no clipping) is written as null.
 */
final class RunSpecJson {
    private static final Set<String> SPEC_KEYS = Set.of("task", "model", "gpt", "norm", "data", "digits", "train_size",
            "eval_size", "tokenizer", "activation_checkpointing", "memory_budget_bytes", "train", "out",
            "checkpoint_every", "eval_every", "eval_tokens", "checkpoint_minutes", "init_from");
    private static final Set<String> GPT_KEYS = Set.of("layers", "heads", "width", "context", "vocab", "dropout");
    private static final Set<String> TRAIN_KEYS = Set.of("micro_batch", "accumulation_steps", "effective_batch",
            "epochs", "max_steps", "drop_last", "shuffle", "optimizer", "lr", "weight_decay", "momentum", "beta1",
            "beta2", "adam_eps", "schedule", "warmup_steps", "min_lr", "clip_norm", "seed", "threads",
            "concurrent_micro_batches", "accumulation_schedule");

    private RunSpecJson() {
    }

    static String write(RunSpec s) {
        return Json.write(toMap(s), 2);
    }

    static Map<String, Object> toMap(RunSpec s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", s.task().id());
        m.put("model", s.model());
        if (s.gpt() != null) {
            GptConfig g = s.gpt();
            Map<String, Object> gpt = new LinkedHashMap<>();
            gpt.put("layers", g.layers());
            gpt.put("heads", g.heads());
            gpt.put("width", g.width());
            gpt.put("context", g.context());
            gpt.put("vocab", g.vocab());
            gpt.put("dropout", g.dropout());
            m.put("gpt", gpt);
        }
        if (s.norm() != null) {
            m.put("norm", s.norm().name().toLowerCase(Locale.ROOT));
        }
        if (s.data() != null) {
            m.put("data", s.data().toString());
        }
        m.put("digits", s.digits());
        m.put("train_size", s.trainSize());
        m.put("eval_size", s.evalSize());
        m.put("tokenizer", s.tokenizer());
        m.put("activation_checkpointing", s.checkpointing());
        m.put("memory_budget_bytes", s.memoryBudget());
        m.put("train", train(s.train()));
        m.put("out", s.out().toString());
        m.put("checkpoint_every", s.checkpointEvery());
        m.put("eval_every", s.evalEvery());
        m.put("eval_tokens", s.evalTokens());
        m.put("checkpoint_minutes", s.checkpointMinutes());
        if (s.initFrom() != null) {
            m.put("init_from", s.initFrom().toString());
        }
        return m;
    }

    private static Map<String, Object> train(TrainConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("micro_batch", c.microBatch());
        m.put("accumulation_steps", c.accumulationSteps());
        m.put("effective_batch", c.effectiveBatch());
        m.put("epochs", c.epochs());
        m.put("max_steps", c.maxSteps());
        m.put("drop_last", c.dropLast());
        m.put("shuffle", c.shuffle());
        m.put("optimizer", c.optimizer().name().toLowerCase(Locale.ROOT));
        m.put("lr", c.lr());
        m.put("weight_decay", c.weightDecay());
        m.put("momentum", c.momentum());
        m.put("beta1", c.beta1());
        m.put("beta2", c.beta2());
        m.put("adam_eps", c.adamEps());
        m.put("schedule", c.schedule().name().toLowerCase(Locale.ROOT));
        m.put("warmup_steps", c.warmupSteps());
        m.put("min_lr", c.minLr());
        m.put("clip_norm", c.clipNorm());
        m.put("seed", c.seed());
        m.put("threads", c.threads());
        m.put("concurrent_micro_batches", c.concurrentMicroBatches());
        AccumulationSchedule a = c.accumulationSchedule();
        if (a != null) {
            Map<String, Object> changes = new LinkedHashMap<>();
            a.changes().forEach((k, v) -> changes.put(Long.toString(k), v));
            m.put("accumulation_schedule", Map.of("by_epoch", a.byEpoch(), "changes", changes));
        }
        return m;
    }

    static RunSpec read(String json) {
        Object parsed;
        try {
            parsed = Json.parse(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("run spec: malformed JSON (" + e.getMessage() + ")");
        }
        return fromMap(parsed);
    }

    static RunSpec fromMap(Object parsed) {
        Fields f = new Fields("run spec", parsed, SPEC_KEYS);
        TaskKind task = TaskKind.of(f.string("task", null));
        Fields g = f.object("gpt", GPT_KEYS);
        GptConfig gpt = g == null ? null : new GptConfig(g.integer("layers"), g.integer("heads"), g.integer("width"),
                g.integer("context"), g.integer("vocab"), (float) g.real("dropout"));
        String norm = f.string("norm", null);
        String data = f.string("data", null);
        String initFrom = f.string("init_from", null);
        Fields t = f.object("train", TRAIN_KEYS);
        if (t == null) {
            throw new IllegalArgumentException("run spec: 'train' is missing");
        }
        return new RunSpec(task, f.string("model", null), gpt, norm == null ? null : NormKind.parse(norm),
                data == null ? null : Path.of(data), f.integer("digits"), f.integer("train_size"),
                f.integer("eval_size"), f.string("tokenizer", null), f.bool("activation_checkpointing"),
                f.whole("memory_budget_bytes"), train(t), Path.of(f.string("out", "out")),
                f.whole("checkpoint_every"), f.wholeOr("eval_every", 0), f.wholeOr("eval_tokens", 0),
                f.map.containsKey("checkpoint_minutes") ? f.real("checkpoint_minutes")
                        : RunSpec.DEFAULT_CHECKPOINT_MINUTES, // absent from specs written before it existed
                initFrom == null ? null : Path.of(initFrom));
    }

    private static TrainConfig train(Fields t) {
        AccumulationSchedule schedule = null;
        Fields a = t.object("accumulation_schedule", Set.of("by_epoch", "changes"));
        if (a != null) {
            Map<Long, Integer> changes = new TreeMap<>();
            Fields c = a.object("changes", null);
            for (String key : c.keys()) {
                try {
                    changes.put(Long.parseLong(key), c.integer(key));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("run spec: accumulation_schedule key '" + key
                            + "' is not a step or epoch number");
                }
            }
            schedule = a.bool("by_epoch") ? AccumulationSchedule.byEpoch(changes)
                    : AccumulationSchedule.byStep(changes);
        }
        Object clip = t.map.get("clip_norm");
        return new TrainConfig(t.integer("micro_batch"), t.integer("accumulation_steps"), t.integer("effective_batch"),
                t.integer("epochs"), t.whole("max_steps"), t.bool("drop_last"), t.bool("shuffle"),
                OptimizerKind.parse(t.string("optimizer", null)), t.real("lr"), t.real("weight_decay"),
                t.real("momentum"), t.real("beta1"), t.real("beta2"), t.real("adam_eps"),
                ScheduleKind.valueOf(t.string("schedule", null).toUpperCase(Locale.ROOT)), t.integer("warmup_steps"),
                t.real("min_lr"), clip == null ? Double.POSITIVE_INFINITY : t.real("clip_norm"), t.whole("seed"),
                t.integer("threads"), schedule, t.integer("concurrent_micro_batches"));
    }

    /** One JSON object's fields, read with messages naming the object, the key and what was found. */
    private static final class Fields {
        private final String where;
        private final Map<?, ?> map;

        Fields(String where, Object value, Set<String> keys) {
            if (!(value instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(where + ": not a JSON object");
            }
            this.where = where;
            this.map = m;
            if (keys != null) {
                for (Object k : m.keySet()) {
                    if (!keys.contains(k)) {
                        throw new IllegalArgumentException(where + ": unknown key '" + k + "'; known keys: "
                                + String.join(", ", new java.util.TreeSet<>(keys)));
                    }
                }
            }
        }

        Iterable<String> keys() {
            return map.keySet().stream().map(String::valueOf).toList();
        }

        private Object require(String key) {
            if (!map.containsKey(key)) {
                throw new IllegalArgumentException(where + ": '" + key + "' is missing");
            }
            return map.get(key);
        }

        Fields object(String key, Set<String> keys) {
            Object v = map.get(key);
            return v == null ? null : new Fields(where + "." + key, v, keys);
        }

        String string(String key, String fallback) {
            Object v = map.get(key);
            if (v == null) {
                return fallback;
            }
            if (!(v instanceof String s)) {
                throw new IllegalArgumentException(where + ": '" + key + "' must be a string, got " + v);
            }
            return s;
        }

        long whole(String key) {
            if (!(require(key) instanceof Long l)) {
                throw new IllegalArgumentException(where + ": '" + key + "' must be an integer, got " + map.get(key));
            }
            return l;
        }

        /** {@link #whole}, or {@code fallback} when absent (a key added later than the format). */
        long wholeOr(String key, long fallback) {
            return map.containsKey(key) ? whole(key) : fallback;
        }

        int integer(String key) {
            long l = whole(key);
            if (l != (int) l) {
                throw new IllegalArgumentException(where + ": '" + key + "' is out of range: " + l);
            }
            return (int) l;
        }

        double real(String key) {
            if (!(require(key) instanceof Number n)) {
                throw new IllegalArgumentException(where + ": '" + key + "' must be a number, got " + map.get(key));
            }
            return n.doubleValue();
        }

        boolean bool(String key) {
            if (!(require(key) instanceof Boolean b)) {
                throw new IllegalArgumentException(where + ": '" + key + "' must be true or false, got "
                        + map.get(key));
            }
            return b;
        }
    }
}
