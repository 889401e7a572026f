package io.accrue.train;

import io.accrue.models.Gpt;
import io.accrue.models.GptConfig;
import io.accrue.nn.LayerNorm;
import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Hugging Face GPT-2 model directory, as {@code GPT2LMHeadModel.save_pretrained} writes it and
 * {@code from_pretrained} reads it: {@code config.json} beside {@code model.safetensors}, or beside
 * {@code model.safetensors.index.json} and the shards its {@code weight_map} names.
 *
 * <p><b>Import</b> ({@link #open}) follows the file's own header (STYLE 16): the shape comes from {@code config.json}
 * ({@code n_layer}, {@code n_head}, {@code n_embd}, {@code n_positions}, {@code vocab_size}, with
 * {@code GPT2Config}'s defaults where a key is absent), and a setting Accrue's {@link Gpt} cannot reproduce exactly is
 * refused with the field named: another {@code model_type}, {@code n_inner} other than 4·{@code n_embd}, an
 * {@code activation_function} other than the tanh GELU ({@code gelu_new}, {@code gelu_pytorch_tanh}; exact
 * {@code gelu} is refused), {@code layer_norm_epsilon} other than {@link LayerNorm#EPS}, unscaled attention,
 * {@code scale_attn_by_inverse_layer_idx}, {@code reorder_and_upcast_attn}, {@code add_cross_attention}, or an
 * untied head. Dropout probabilities are a training setting and are not read. Tensors are named as the model's
 * parameters, with or without the {@code transformer.} prefix; a {@code lm_head.weight} (the tied head, a copy of
 * {@code wte.weight}) and the causal-mask buffers of old checkpoints ({@code h.N.attn.bias},
 * {@code h.N.attn.masked_bias}) are accepted and not read; every other tensor must be there exactly once, with the
 * shape the config gives. F32, F16 and BF16 tensors are read as F32.
 *
 * <p><b>Export</b> ({@link #publish}, {@link #export}) writes {@code config.json} for a {@link GptConfig} beside a
 * model file of Accrue's (its tensors already carry these names and layouts, {@link Checkpoint}).
 */
public final class HuggingFaceGpt2 {
    /** The configuration file. */
    public static final String CONFIG = "config.json";
    /** The weights file of an unsharded model. */
    public static final String WEIGHTS = "model.safetensors";
    /** The index of a sharded model's weight files. */
    public static final String INDEX = "model.safetensors.index.json";
    /** The model-file metadata key that names the tokenizer of the vocabulary (written by Accrue). */
    public static final String TOKENIZER_KEY = "tokenizer";
    private static final String PREFIX = "transformer.";
    private static final String HEAD = "lm_head.weight";
    private static final Pattern CAUSAL_MASK = Pattern.compile("h\\.\\d+\\.attn\\.(masked_)?bias");
    private static final List<String> TANH_GELU = List.of("gelu_new", "gelu_pytorch_tanh");
    private static final String WANT = "; give a Hugging Face GPT-2 directory (config.json and model.safetensors, as "
            + "save_pretrained writes them)";

    /** Where one parameter's tensor lies. */
    private record Located(Path file, SafeTensors.Header header, SafeTensors.Stored stored) {
    }

    private final Path dir;
    private final GptConfig config;
    private final Map<String, Located> tensors;
    private final Map<String, String> metadata;

    private HuggingFaceGpt2(Path dir, GptConfig config, Map<String, Located> tensors, Map<String, String> metadata) {
        this.dir = dir;
        this.config = config;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Whether {@code dir} holds a {@code config.json} (a Hugging Face model directory, or meant as one). */
    public static boolean isModelDirectory(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG));
    }

    /**
     * Reads {@code dir}'s configuration and the headers of its weights, and checks that every tensor is there with
     * the config's shape; reads no weights yet.
     *
     * @throws CheckpointException one line naming the missing file, the field Accrue cannot reproduce, or the tensor
     *                             missing, extra, of another shape or dtype, and what to do
     */
    public static HuggingFaceGpt2 open(Path dir) {
        GptConfig config = readConfig(dir);
        Map<String, Located> found = locate(dir);
        Map<String, Located> tensors = new LinkedHashMap<>();
        for (Parameter p : Gpt.shapesOnly(config).parameters().parameters()) {
            Located at = found.remove(p.name());
            if (at == null) {
                throw new CheckpointException(dir, "has no tensor '" + p.name() + "' (nor '" + PREFIX + p.name()
                        + "'), which config.json's shape needs; give a complete GPT-2 directory");
            }
            int[] want = fileShape(p);
            if (!Arrays.equals(at.stored().shape(), want)) {
                throw new CheckpointException(at.file(), "tensor '" + at.stored().name() + "' has shape "
                        + Arrays.toString(at.stored().shape()) + ", but config.json (n_layer " + config.layers()
                        + ", n_embd " + config.width() + ", n_positions " + config.context() + ", vocab_size "
                        + config.vocab() + ") gives " + Arrays.toString(want) + "; the config does not describe these "
                        + "weights");
            }
            tensors.put(p.name(), at);
        }
        Located head = found.remove(HEAD);
        if (head != null && !Arrays.equals(head.stored().shape(), new int[] {config.vocab(), config.width()})) {
            throw new CheckpointException(head.file(), "tensor '" + HEAD + "' has shape "
                    + Arrays.toString(head.stored().shape()) + ", not the tied head's [" + config.vocab() + ", "
                    + config.width() + "]; give a GPT-2 whose head is tied to wte");
        }
        found.keySet().removeIf(name -> CAUSAL_MASK.matcher(name).matches());
        if (!found.isEmpty()) {
            Located extra = found.values().iterator().next();
            throw new CheckpointException(extra.file(), "holds tensor '" + extra.stored().name() + "', which a GPT-2 "
                    + "of config.json's shape does not have (" + found.size() + " such); give a GPT2LMHeadModel "
                    + "directory whose config.json matches its weights");
        }
        Map<String, String> metadata = tensors.values().iterator().next().header().metadata();
        return new HuggingFaceGpt2(dir, config, tensors, metadata);
    }

    /** The model's shape (dropout 0). */
    public GptConfig config() {
        return config;
    }

    /** The directory. */
    public Path dir() {
        return dir;
    }

    /** The tokenizer the weights file's metadata names (Accrue writes one), or null. */
    public String tokenizer() {
        return metadata.get(TOKENIZER_KEY);
    }

    /**
     * Copies the weights into {@code store}, a {@link Gpt}'s of {@link #config()} — or of a shorter context T: the
     * position embeddings are then cropped to their first T rows.
     *
     * @throws IllegalArgumentException if the store is of another shape
     */
    public void restore(ParameterStore store) {
        for (Parameter p : store.parameters()) {
            Located at = tensors.get(p.name());
            if (at == null) {
                throw new IllegalArgumentException("the model has a parameter '" + p.name() + "' that " + dir
                        + " does not hold");
            }
            int[] shape = at.stored().shape();
            if (p.name().equals("wpe.weight") && p.value().dim(0) < shape[0]) {
                float[] all = new float[shape[0] * shape[1]];
                SafeTensors.read(at.file(), at.header(), at.stored(), new SafeTensors.Entry(p.name(), shape, all, 0,
                        false));
                System.arraycopy(all, 0, store.values(), p.offset(), p.size());
            } else {
                SafeTensors.read(at.file(), at.header(), at.stored(), new SafeTensors.Entry(p.name(),
                        p.value().shape(), store.values(), p.offset(), p.storedTransposed()));
            }
        }
    }

    private static int[] fileShape(Parameter p) {
        int[] s = p.value().shape();
        return p.storedTransposed() ? new int[] {s[1], s[0]} : s.clone();
    }

    /**
     * The shape {@code dir/config.json} describes, with {@code GPT2Config}'s defaults for absent keys.
     *
     * @throws CheckpointException naming a missing file or a field Accrue cannot reproduce exactly
     */
    public static GptConfig readConfig(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir, (Files.exists(dir) ? "not a directory" : "no such directory") + WANT);
        }
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(dir, "has no " + CONFIG + WANT);
        }
        Map<?, ?> j = jsonObject(file);
        Object type = j.get("model_type");
        if (!"gpt2".equals(type)) {
            throw new CheckpointException(file, "model_type is " + (type == null ? "missing" : Json.quote(type
                    .toString())) + "; Accrue imports GPT-2 only (model_type \"gpt2\")");
        }
        int layers = positive(file, j, "n_layer", 12);
        int heads = positive(file, j, "n_head", 12);
        int width = positive(file, j, "n_embd", 768);
        int context = positive(file, j, j.containsKey("n_positions") ? "n_positions" : "n_ctx", 1024);
        int vocab = positive(file, j, "vocab_size", 50257);
        Object inner = j.get("n_inner");
        if (inner != null && !(inner instanceof Long n && n == 4L * width)) {
            refuse(file, "n_inner is " + inner + ", but Accrue's MLP is 4 × n_embd = " + 4 * width + " wide",
                    "n_inner null");
        }
        Object act = j.containsKey("activation_function") ? j.get("activation_function") : "gelu_new";
        if (!TANH_GELU.contains(act)) {
            refuse(file, "activation_function is " + act + ("gelu".equals(act) ? " (exact, erf-based GELU)" : "")
                    + ", but Accrue's GPT computes GELU in GPT-2's tanh form", "activation_function gelu_new");
        }
        Object eps = j.containsKey("layer_norm_epsilon") ? j.get("layer_norm_epsilon") : 1e-5;
        if (!(eps instanceof Number e) || (float) e.doubleValue() != LayerNorm.EPS) {
            refuse(file, "layer_norm_epsilon is " + eps + ", but Accrue's LayerNorm adds " + LayerNorm.EPS,
                    "layer_norm_epsilon 1e-05");
        }
        flag(file, j, "scale_attn_weights", true);
        flag(file, j, "scale_attn_by_inverse_layer_idx", false);
        flag(file, j, "reorder_and_upcast_attn", false);
        flag(file, j, "add_cross_attention", false);
        flag(file, j, "tie_word_embeddings", true);
        if (width % heads != 0) {
            throw new CheckpointException(file, "n_embd " + width + " is not divisible by n_head " + heads
                    + "; the config is not a valid GPT-2");
        }
        return new GptConfig(layers, heads, width, context, vocab, 0f);
    }

    private static void refuse(Path file, String problem, String wanted) {
        throw new CheckpointException(file, problem + "; Accrue cannot reproduce this model exactly (import one with "
                + wanted + ")");
    }

    /** Refuses a boolean setting other than {@code reproducible} (absent: GPT2Config's default, the same). */
    private static void flag(Path file, Map<?, ?> j, String key, boolean reproducible) {
        Object v = j.containsKey(key) ? j.get(key) : reproducible;
        if (!Boolean.valueOf(reproducible).equals(v)) {
            refuse(file, key + " is " + v, key + " " + reproducible);
        }
    }

    private static int positive(Path file, Map<?, ?> j, String key, int fallback) {
        Object v = j.containsKey(key) ? j.get(key) : (long) fallback;
        if (!(v instanceof Long n) || n <= 0 || n > Integer.MAX_VALUE) {
            throw new CheckpointException(file, key + " is " + v + "; it must be a positive integer");
        }
        return n.intValue();
    }

    private static Map<?, ?> jsonObject(Path file) {
        try {
            if (Json.parse(Files.readString(file)) instanceof Map<?, ?> m) {
                return m;
            }
            throw new CheckpointException(file, "is not a JSON object" + WANT);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new CheckpointException(file, "cannot read (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "is not valid JSON (" + e.getMessage() + ")" + WANT);
        }
    }

    /**
     * Every tensor of the directory's weights by its name without the {@code transformer.} prefix: those of
     * {@link #WEIGHTS}, or of the shards {@link #INDEX} names.
     */
    private static Map<String, Located> locate(Path dir) {
        Map<String, Located> found = new LinkedHashMap<>();
        Path single = dir.resolve(WEIGHTS);
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(single)) {
            SafeTensors.Header h = SafeTensors.header(single);
            for (SafeTensors.Stored s : h.tensors()) {
                add(found, new Located(single, h, s));
            }
        } else if (Files.isRegularFile(index)) {
            if (!(jsonObject(index).get("weight_map") instanceof Map<?, ?> map)) {
                throw new CheckpointException(index, "has no weight_map object; give the index save_pretrained wrote");
            }
            Map<String, SafeTensors.Header> shards = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String name = String.valueOf(e.getKey());
                if (!(e.getValue() instanceof String shard) || shard.contains("/") || shard.contains("\\")) {
                    throw new CheckpointException(index, "maps '" + name + "' to " + e.getValue()
                            + ", not a file name beside it");
                }
                Path file = dir.resolve(shard);
                if (!Files.isRegularFile(file)) {
                    throw new CheckpointException(file, "missing (named by " + INDEX + "); give every shard");
                }
                SafeTensors.Header h = shards.computeIfAbsent(shard, s -> SafeTensors.header(file));
                SafeTensors.Stored s = h.tensor(name);
                if (s == null) {
                    throw new CheckpointException(file, "has no tensor '" + name + "', which " + INDEX
                            + " places there");
                }
                add(found, new Located(file, h, s));
            }
        } else {
            boolean pickle = Files.exists(dir.resolve("pytorch_model.bin"));
            throw new CheckpointException(dir, "has no " + WEIGHTS + " or " + INDEX + (pickle
                    ? "; it holds pytorch_model.bin, which Accrue does not read: save it again with "
                    + "save_pretrained(dir, safe_serialization=True)" : WANT));
        }
        return found;
    }

    private static void add(Map<String, Located> found, Located at) {
        String name = at.stored().name();
        String plain = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
        if (!Set.of("F32", "F16", "BF16").contains(at.stored().dtype())) {
            throw new CheckpointException(at.file(), "tensor '" + name + "' has dtype " + at.stored().dtype()
                    + "; Accrue imports F32, F16 or BF16 weights");
        }
        if (found.put(plain, at) != null) {
            throw new CheckpointException(at.file(), "holds '" + plain + "' twice (with and without the "
                    + PREFIX + " prefix); give one of them");
        }
    }

    /** {@code config.json} of a model of shape {@code config}, as {@code GPT2Config.to_json_string} would hold it. */
    public static String configJson(GptConfig config) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("architectures", List.of("GPT2LMHeadModel"));
        j.put("model_type", "gpt2");
        j.put("vocab_size", config.vocab());
        j.put("n_positions", config.context());
        j.put("n_embd", config.width());
        j.put("n_layer", config.layers());
        j.put("n_head", config.heads());
        j.put("n_inner", null);
        j.put("activation_function", "gelu_new");
        j.put("layer_norm_epsilon", (double) LayerNorm.EPS);
        j.put("resid_pdrop", (double) config.dropout());
        j.put("embd_pdrop", (double) config.dropout());
        j.put("attn_pdrop", 0.0); // Accrue drops no attention probabilities
        j.put("scale_attn_weights", true);
        j.put("scale_attn_by_inverse_layer_idx", false);
        j.put("reorder_and_upcast_attn", false);
        j.put("add_cross_attention", false);
        j.put("tie_word_embeddings", true);
        j.put("dtype", "float32");
        return Json.write(j, 2) + "\n";
    }

    /**
     * Makes {@code dir} a Hugging Face directory of {@code modelFile}, a model file of Accrue's in {@code dir}:
     * {@code config.json} for {@code config} and {@code model.safetensors} as a hard link to the file (a copy where
     * the file system has no links), each replaced atomically.
     */
    static void publish(Path dir, Path modelFile, GptConfig config) throws IOException {
        Checkpoint.writeAtomically(dir, CONFIG, f -> Files.writeString(f, configJson(config)));
        Path tmp = dir.resolve(WEIGHTS + ".tmp");
        Files.deleteIfExists(tmp);
        try {
            Files.createLink(tmp, modelFile);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(modelFile, tmp);
        }
        Files.move(tmp, dir.resolve(WEIGHTS), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Writes {@code config.json} and a copy of {@code modelFile} (a model file of Accrue's, of shape {@code config})
     * as {@code model.safetensors} into {@code out} (created if missing), each atomically: a directory
     * {@code GPT2LMHeadModel.from_pretrained} loads as it is.
     */
    public static void export(Path modelFile, GptConfig config, Path out) throws IOException {
        Files.createDirectories(out);
        Checkpoint.writeAtomically(out, WEIGHTS, f -> Files.copy(modelFile, f, StandardCopyOption.REPLACE_EXISTING));
        Checkpoint.writeAtomically(out, CONFIG, f -> Files.writeString(f, configJson(config)));
    }
}
