package io.accrue.train;

import io.accrue.optim.Optimizer;
import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A training checkpoint in one directory: the weights as {@code model-<step>.safetensors}, the optimizer state as
 * {@code optimizer-<step>.safetensors}, and the sidecar {@code checkpoint.json} (format, step, epoch, data cursor,
 * optimizer name and step count, each file's SHA-256 and size, and free-form string metadata such as the config).
 *
 * <p>Weights are stored under the model's parameter names (a Gpt's are Hugging Face GPT-2's: {@code wte.weight},
 * {@code h.0.attn.c_attn.weight}, …) in the layout the model declared for each: our linear weights are (out, in)
 * like {@code torch.nn.Linear}, and a parameter the model declared {@link Parameter#storedTransposed stored
 * transposed} (GPT-2's {@code Conv1D} weights, which Hugging Face stores (in, out)) is transposed on write and on
 * read, so a Gpt's file loads into {@code GPT2LMHeadModel} as it is. The optimizer file holds each state buffer
 * flat, in the parameter layout, as {@code <optimizer>.<i>}.
 *
 * <p>Saving is atomic: each file is written to a temporary name, forced to disk and renamed; the sidecar is
 * renamed last, so until then the previous sidecar and the files it names are intact; files no longer named are
 * deleted after. A crash at any point leaves the previous or the new checkpoint, never a mix.
 */
public final class Checkpoint {
    /** The sidecar's file name. */
    public static final String SIDECAR = "checkpoint.json";
    private static final String FORMAT = "accrue-checkpoint";
    private static final Pattern OWN_FILE = Pattern.compile("(model|optimizer)-\\d+\\.safetensors(\\.tmp)?");

    private final Path dir;
    private final TrainerState state;
    private final String optimizerName;
    private final long optimizerSteps;
    private final Path modelFile;
    private final Path optimizerFile;
    private final Map<String, String> metadata;
    private final Map<String, Object> run;

    private Checkpoint(Path dir, TrainerState state, String optimizerName, long optimizerSteps, Path modelFile,
                       Path optimizerFile, Map<String, String> metadata, Map<String, Object> run) {
        this.run = run;
        this.dir = dir;
        this.state = state;
        this.optimizerName = optimizerName;
        this.optimizerSteps = optimizerSteps;
        this.modelFile = modelFile;
        this.optimizerFile = optimizerFile;
        this.metadata = metadata;
    }

    /** Whether {@code dir} holds a checkpoint sidecar. */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(SIDECAR));
    }

    /**
     * What a checkpoint says about its run besides the tensors.
     *
     * @param strings saved in the sidecar's {@code metadata} and the model file's {@code __metadata__}: names of
     *                the data and the model, compared on resume
     * @param run     the run's description as a JSON object (the sidecar's {@code run}), or null
     */
    public record Metadata(Map<String, String> strings, Map<String, Object> run) {
    }

    /**
     * Saves weights, optimizer state and {@code state} into {@code dir} (created if missing) atomically.
     *
     * @param metadata strings saved in the sidecar and the model file's {@code __metadata__}
     */
    public static void save(Path dir, ParameterStore store, Optimizer optimizer, TrainerState state,
                            Map<String, String> metadata) throws IOException {
        save(dir, store, optimizer, state, new Metadata(metadata, null));
    }

    /** {@link #save} with the run's description in the sidecar as well. */
    public static void save(Path dir, ParameterStore store, Optimizer optimizer, TrainerState state,
                            Metadata meta) throws IOException {
        Map<String, String> metadata = meta.strings();
        Files.createDirectories(dir);
        String modelName = String.format("model-%08d.safetensors", state.step());
        String optName = String.format("optimizer-%08d.safetensors", state.step());

        List<SafeTensors.Entry> weights = new ArrayList<>();
        for (Parameter p : store.parameters()) {
            weights.add(new SafeTensors.Entry(p.name(), p.value().shape(), store.values(), p.offset(),
                    p.storedTransposed()));
        }
        Map<String, String> modelMeta = new LinkedHashMap<>();
        modelMeta.put("format", "pt");
        modelMeta.put("producer", "accrue");
        modelMeta.put("step", Long.toString(state.step()));
        modelMeta.putAll(metadata);
        String modelSha = writeAtomically(dir, modelName, f -> SafeTensors.write(f, modelMeta, weights));

        List<SafeTensors.Entry> buffers = new ArrayList<>();
        List<float[]> s = optimizer.state();
        for (int i = 0; i < s.size(); i++) {
            buffers.add(new SafeTensors.Entry(optimizer.name() + "." + i, new int[] {s.get(i).length}, s.get(i), 0,
                    false));
        }
        Map<String, String> optMeta = new LinkedHashMap<>();
        optMeta.put("optimizer", optimizer.name());
        optMeta.put("steps", Long.toString(optimizer.steps()));
        String optSha = writeAtomically(dir, optName, f -> SafeTensors.write(f, optMeta, buffers));

        StringBuilder j = new StringBuilder("{\n");
        j.append("  \"format\": ").append(Json.quote(FORMAT)).append(",\n");
        j.append("  \"version\": 1,\n");
        j.append("  \"step\": ").append(state.step()).append(",\n");
        j.append("  \"epoch\": ").append(state.epoch()).append(",\n");
        j.append("  \"cursor\": ").append(state.cursor()).append(",\n");
        j.append("  \"optimizer\": ").append(Json.quote(optimizer.name())).append(",\n");
        j.append("  \"optimizer_steps\": ").append(optimizer.steps()).append(",\n");
        j.append("  \"model_file\": ").append(fileJson(dir.resolve(modelName), modelSha)).append(",\n");
        j.append("  \"optimizer_file\": ").append(fileJson(dir.resolve(optName), optSha)).append(",\n");
        j.append("  \"metadata\": ").append(Json.object(metadata));
        if (meta.run() != null) {
            j.append(",\n  \"run\": ").append(Json.write(meta.run(), 2).replace("\n", "\n  "));
        }
        j.append("\n}\n");
        byte[] sidecar = j.toString().getBytes(StandardCharsets.UTF_8);
        writeAtomically(dir, SIDECAR, f -> Files.write(f, sidecar));

        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (OWN_FILE.matcher(n).matches() && !n.equals(modelName) && !n.equals(optName)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private static String fileJson(Path f, String sha) throws IOException {
        return "{\"name\": " + Json.quote(f.getFileName().toString()) + ", \"bytes\": " + Files.size(f)
                + ", \"sha256\": " + Json.quote(sha) + "}";
    }

    @FunctionalInterface
    private interface FileWriter {
        void write(Path file) throws IOException;
    }

    /** Writes via {@code name.tmp}, forces it, renames it over {@code name}, forces the directory; returns SHA-256. */
    private static String writeAtomically(Path dir, String name, FileWriter writer) throws IOException {
        Path tmp = dir.resolve(name + ".tmp");
        Path target = dir.resolve(name);
        writer.write(tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        String sha = sha256(tmp);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems cannot sync a directory; the rename is still atomic
        }
        return sha;
    }

    private static String sha256(Path f) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(f)) {
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Reads and verifies the checkpoint in {@code dir}: the sidecar, the files it names (size and SHA-256), and
     * their safetensors headers.
     *
     * @throws CheckpointException naming the file and the problem
     */
    public static Checkpoint load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir, Files.exists(dir) ? "not a directory" : "no such checkpoint directory");
        }
        Path sidecar = dir.resolve(SIDECAR);
        String text;
        try {
            text = Files.readString(sidecar);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(sidecar, "missing: " + dir + " is not a checkpoint directory");
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new CheckpointException(sidecar, "cannot read (" + e.getMessage() + ")");
        }
        Map<?, ?> j;
        try {
            if (!(Json.parse(text) instanceof Map<?, ?> m)) {
                throw new CheckpointException(sidecar, "corrupt: not a JSON object");
            }
            j = m;
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(sidecar, "corrupt or truncated JSON (" + e.getMessage() + ")");
        }
        if (!FORMAT.equals(j.get("format"))) {
            throw new CheckpointException(sidecar, "not an accrue checkpoint (format " + j.get("format") + ")");
        }
        if (!Long.valueOf(1).equals(j.get("version"))) {
            throw new CheckpointException(sidecar, "unsupported checkpoint version " + j.get("version"));
        }
        TrainerState state;
        try {
            state = new TrainerState(number(sidecar, j, "step"), (int) number(sidecar, j, "epoch"),
                    (int) number(sidecar, j, "cursor"));
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(sidecar, "corrupt: " + e.getMessage());
        }
        Path model = verify(dir, sidecar, j.get("model_file"), "model_file");
        Path opt = verify(dir, sidecar, j.get("optimizer_file"), "optimizer_file");
        Map<String, String> meta = new LinkedHashMap<>();
        if (j.get("metadata") instanceof Map<?, ?> m) {
            m.forEach((k, v) -> meta.put((String) k, String.valueOf(v)));
        }
        if (!(j.get("optimizer") instanceof String optName)) {
            throw new CheckpointException(sidecar, "corrupt: no optimizer name");
        }
        Map<String, Object> run = null;
        if (j.get("run") instanceof Map<?, ?> r) {
            run = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : r.entrySet()) {
                run.put((String) e.getKey(), e.getValue());
            }
        }
        return new Checkpoint(dir, state, optName, number(sidecar, j, "optimizer_steps"), model, opt, meta, run);
    }

    private static long number(Path sidecar, Map<?, ?> j, String key) {
        if (!(j.get(key) instanceof Long v)) {
            throw new CheckpointException(sidecar, "corrupt: '" + key + "' is missing or not an integer");
        }
        return v;
    }

    private static Path verify(Path dir, Path sidecar, Object entry, String key) {
        if (!(entry instanceof Map<?, ?> m) || !(m.get("name") instanceof String name)
                || !(m.get("sha256") instanceof String sha) || !(m.get("bytes") instanceof Long bytes)
                || name.contains("/") || name.contains("\\")) {
            throw new CheckpointException(sidecar, "corrupt: '" + key + "' lacks name/bytes/sha256");
        }
        Path f = dir.resolve(name);
        if (!Files.isRegularFile(f)) {
            throw new CheckpointException(f, "missing (named by " + SIDECAR + ")");
        }
        try {
            long size = Files.size(f);
            if (size != bytes) {
                throw new CheckpointException(f, (size < bytes ? "truncated" : "corrupt") + ": " + size
                        + " bytes, " + SIDECAR + " records " + bytes);
            }
            if (!sha256(f).equals(sha)) {
                throw new CheckpointException(f, "corrupt: SHA-256 differs from the one recorded in " + SIDECAR);
            }
        } catch (IOException e) {
            throw new CheckpointException(f, "cannot read (" + e.getMessage() + ")");
        }
        SafeTensors.header(f);
        return f;
    }

    public Path dir() {
        return dir;
    }

    public TrainerState state() {
        return state;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** The run's description as saved (a JSON object), or null for a checkpoint saved without one. */
    public Map<String, Object> run() {
        return run;
    }

    public String optimizerName() {
        return optimizerName;
    }

    public long optimizerSteps() {
        return optimizerSteps;
    }

    public Path modelFile() {
        return modelFile;
    }

    public Path optimizerFile() {
        return optimizerFile;
    }

    /**
     * Copies the saved weights into {@code store}; names and shapes must match exactly.
     *
     * @throws CheckpointException if the file holds another model's tensors
     */
    public void restoreWeights(ParameterStore store) {
        SafeTensors.Header h = SafeTensors.header(modelFile);
        List<Parameter> params = store.parameters();
        if (h.tensors().size() != params.size()) {
            throw new CheckpointException(modelFile, "holds " + h.tensors().size() + " tensors, the model has "
                    + params.size() + " (a checkpoint of a different model?)");
        }
        for (Parameter p : params) {
            SafeTensors.Stored s = h.tensor(p.name());
            if (s == null) {
                throw new CheckpointException(modelFile, "has no tensor '" + p.name()
                        + "' (a checkpoint of a different model?)");
            }
            SafeTensors.read(modelFile, h, s, new SafeTensors.Entry(p.name(), p.value().shape(), store.values(),
                    p.offset(), p.storedTransposed()));
        }
    }

    /**
     * Copies the saved optimizer state into {@code optimizer} and sets its step count.
     *
     * @throws CheckpointException if the optimizer kind or the buffer sizes differ
     */
    public void restoreOptimizer(Optimizer optimizer) {
        if (!optimizer.name().equals(optimizerName)) {
            throw new CheckpointException(optimizerFile, "holds " + optimizerName + " state, this run uses "
                    + optimizer.name());
        }
        SafeTensors.Header h = SafeTensors.header(optimizerFile);
        List<float[]> live = optimizer.state();
        if (h.tensors().size() != live.size()) {
            throw new CheckpointException(optimizerFile, "holds " + h.tensors().size() + " buffers, " + optimizer.name()
                    + " has " + live.size());
        }
        List<float[]> restored = new ArrayList<>();
        for (int i = 0; i < live.size(); i++) {
            String name = optimizer.name() + "." + i;
            SafeTensors.Stored s = h.tensor(name);
            if (s == null) {
                throw new CheckpointException(optimizerFile, "has no buffer '" + name + "'");
            }
            float[] buf = new float[live.get(i).length];
            SafeTensors.read(optimizerFile, h, s, new SafeTensors.Entry(name, new int[] {buf.length}, buf, 0, false));
            restored.add(buf);
        }
        optimizer.restore(restored, optimizerSteps);
    }
}
