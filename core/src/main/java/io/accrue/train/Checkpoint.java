package io.accrue.train;

import io.accrue.data.EnvironmentException;
import io.accrue.models.GptConfig;
import io.accrue.optim.Optimizer;
import io.accrue.tensor.Parameter;
import io.accrue.tensor.ParameterStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
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
 * A checkpoint taken inside a window (between two of its micro-batches, {@link TrainerState#windowOpen()}) also holds
 * the gradient buffer's raw sums as {@code grads-<step>-<examples>.safetensors} and the window's position, loss sum
 * and count in the sidecar; its files are named {@code model-<step>-<examples>.safetensors} etc.
 *
 * <p>The directory keeps the last two checkpoints: each {@link #save} renames the newest sidecar to
 * {@code checkpoint.previous.json} before its own becomes {@code checkpoint.json}. {@link #load} takes the newest and,
 * when it is damaged (a file missing, truncated or with another SHA-256; a sidecar cut off), falls back to the
 * previous one and says so ({@link #notes()}). Other sidecars may share the directory ({@link #saveAs}: e.g. the best
 * checkpoint by validation loss); a file is deleted once no sidecar names it.
 *
 * <p>Weights are stored under the model's parameter names (a Gpt's are Hugging Face GPT-2's: {@code wte.weight},
 * {@code h.0.attn.c_attn.weight}, …) in the layout the model declared for each: our linear weights are (out, in)
 * like {@code torch.nn.Linear}, and a parameter the model declared {@link Parameter#storedTransposed stored
 * transposed} (GPT-2's {@code Conv1D} weights, which Hugging Face stores (in, out)) is transposed on write and on
 * read, so a Gpt's file loads into {@code GPT2LMHeadModel} as it is. A checkpoint of a GPT ({@link Metadata#gpt()})
 * makes its directory a Hugging Face one too: after each {@link #save}, {@code config.json} and
 * {@code model.safetensors} (a hard link to the newest model file) sit beside it ({@link HuggingFaceGpt2}), so
 * {@code GPT2LMHeadModel.from_pretrained(dir)} loads the newest weights. The optimizer file holds each state buffer
 * per parameter, in the parameter's file layout, named as PyTorch's optimizer state names it:
 * {@code exp_avg.<parameter>} and {@code exp_avg_sq.<parameter>} for AdamW, {@code momentum_buffer.<parameter>} for
 * SGD ({@link Optimizer#stateNames()}). Checkpoints of version 2 and before held each buffer flat as
 * {@code <optimizer>.<i>}; they are still read.
 *
 * <p>Saving is atomic: each file is written to a temporary name, forced to disk and renamed; the sidecar is
 * renamed last, so until then the previous sidecar and the files it names are intact; files no longer named are
 * deleted after. A crash at any point leaves the previous or the new checkpoint, never a mix. A save first checks
 * that the checkpoint's {@link #bytes} fit the file system ({@link DiskSpace}); a write that fails anyway (a full
 * disk) removes its own files and leaves the checkpoints that were there ({@link EnvironmentException}).
 *
 * <p>The sidecar's {@code version} is the format's: one written by a newer Accrue is refused
 * ({@link EnvironmentException}); an older one is read, migrated to this version by the next save, and
 * {@link #notes()} says so.
 */
public final class Checkpoint {
    /** The newest checkpoint's sidecar. */
    public static final String SIDECAR = "checkpoint.json";
    /** The sidecar of the checkpoint before the newest. */
    public static final String PREVIOUS = "checkpoint.previous.json";
    private static final String FORMAT = "accrue-checkpoint";
    private static final int VERSION = 3;
    private static final Pattern OWN_FILE = Pattern.compile("(model|optimizer|grads)-\\d+(-\\d+)?\\.safetensors(\\.tmp)?");
    private static final Pattern SIDECAR_FILE = Pattern.compile("[^/]+\\.json");

    private final Path dir;
    private final TrainerState state;
    private final String optimizerName;
    private final long optimizerSteps;
    private final Path modelFile;
    private final Path optimizerFile;
    private final Path gradsFile;
    private final Map<String, String> metadata;
    private final Map<String, Object> run;
    private final List<String> notes;

    private Checkpoint(Path dir, TrainerState state, String optimizerName, long optimizerSteps, Path modelFile,
                       Path optimizerFile, Path gradsFile, Map<String, String> metadata,
                       Map<String, Object> run, List<String> notes) {
        this.run = run;
        this.gradsFile = gradsFile;
        this.notes = notes;
        this.dir = dir;
        this.state = state;
        this.optimizerName = optimizerName;
        this.optimizerSteps = optimizerSteps;
        this.modelFile = modelFile;
        this.optimizerFile = optimizerFile;
        this.metadata = metadata;
    }

    /** Whether {@code dir} holds a checkpoint sidecar (the newest, or the previous one after an interrupted save). */
    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(SIDECAR)) || Files.isRegularFile(dir.resolve(PREVIOUS));
    }

    /**
     * What a checkpoint says about its run besides the tensors.
     *
     * @param strings saved in the sidecar's {@code metadata} and the model file's {@code __metadata__}: names of
     *                the data and the model, compared on resume
     * @param run     the run's description as a JSON object (the sidecar's {@code run}), or null
     * @param gpt     the shape of the model when it is a {@code Gpt}: the directory then gets {@code config.json} and
     *                {@code model.safetensors} as well (a Hugging Face GPT-2 directory); null for other models
     */
    public record Metadata(Map<String, String> strings, Map<String, Object> run, GptConfig gpt) {
        /** Metadata of a model that is not a GPT (or whose directory need not load into Hugging Face). */
        public Metadata(Map<String, String> strings, Map<String, Object> run) {
            this(strings, run, null);
        }

        /** These metadata with {@code strings} instead. */
        public Metadata withStrings(Map<String, String> other) {
            return new Metadata(other, run, gpt);
        }
    }

    /** Told each step of a {@link #save} as it happens (progress displays; tests that kill a process inside one). */
    @FunctionalInterface
    public interface WriteListener {
        /** Nothing to tell. */
        WriteListener NONE = file -> { };

        /**
         * {@code file} is complete: a temporary file written and forced to disk before it is renamed, or the newest
         * sidecar just renamed to {@link #PREVIOUS} before the new one takes its name.
         */
        void written(Path file) throws IOException;
    }

    /**
     * Saves weights (with the store's {@link ParameterStore#buffers() buffers}), optimizer state and {@code state}
     * into {@code dir} (created if missing) atomically, as the newest checkpoint; the newest before becomes the
     * previous one and older files are deleted. Inside a window ({@link TrainerState#windowOpen()}) the gradient
     * buffer is saved too.
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
        save(dir, store, optimizer, state, meta, WriteListener.NONE);
    }

    /** {@link #save}, telling {@code listener} each file as it is complete. */
    public static void save(Path dir, ParameterStore store, Optimizer optimizer, TrainerState state,
                            Metadata meta, WriteListener listener) throws IOException {
        write(dir, SIDECAR, store, optimizer, state, meta, listener);
    }

    /**
     * Saves a checkpoint under its own sidecar {@code sidecar} (e.g. {@code best.json}), replacing the one that had
     * that name and leaving the newest and previous ones alone; {@link #load(Path, String)} reads it.
     */
    public static void saveAs(Path dir, String sidecar, ParameterStore store, Optimizer optimizer, TrainerState state,
                              Metadata meta) throws IOException {
        if (!SIDECAR_FILE.matcher(sidecar).matches() || sidecar.equals(SIDECAR) || sidecar.equals(PREVIOUS)) {
            throw new IllegalArgumentException("sidecar name must be a plain *.json name other than " + SIDECAR
                    + " and " + PREVIOUS + ", got " + sidecar);
        }
        write(dir, sidecar, store, optimizer, state, meta, WriteListener.NONE);
    }

    /**
     * The bytes a checkpoint of {@code store} and {@code optimizer} takes on disk, a little more rather than less:
     * every float, each tensor's header entry, the sidecar with the run's description.
     */
    public static long bytes(ParameterStore store, Optimizer optimizer, boolean windowOpen) {
        long floats = store.values().length + (windowOpen ? store.gradSize() : 0);
        int tensors = store.parameters().size() + optimizer.state().size() + 1;
        for (float[] b : store.buffers().values()) {
            floats += b.length;
            tensors++;
        }
        for (float[] s : optimizer.state()) {
            floats += s.length;
        }
        return Float.BYTES * floats + 256L * tensors + (64 << 10);
    }

    /**
     * Writes the checkpoint after checking that its {@link #bytes} fit the file system; when a write fails anyway,
     * removes what this save wrote (its temporary and renamed files no sidecar names), so the directory holds the
     * checkpoints it held before.
     *
     * @throws EnvironmentException too little space, or a file that cannot be written (naming the directory)
     */
    private static void write(Path dir, String sidecarName, ParameterStore store, Optimizer optimizer,
                              TrainerState state, Metadata meta, WriteListener listener) throws IOException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw EnvironmentException.of("create", dir, e);
        }
        DiskSpace.require(dir, bytes(store, optimizer, state.windowOpen()), "the checkpoint at step " + state.step()
                + (state.windowOpen() ? " + " + state.windowExamples() + " examples" : ""));
        try {
            writeFiles(dir, sidecarName, store, optimizer, state, meta, listener);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(dir.resolve(sidecarName + ".tmp"));
                deleteUnnamed(dir);
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof IOException io && !(io instanceof InterruptedIOException)) { // a stop is no disk fault
                throw EnvironmentException.of("write the checkpoint in", dir, io);
            }
            throw e;
        }
    }

    private static void writeFiles(Path dir, String sidecarName, ParameterStore store, Optimizer optimizer,
                                   TrainerState state, Metadata meta, WriteListener listener) throws IOException {
        Map<String, String> metadata = meta.strings();
        String suffix = state.windowOpen() ? String.format("-%08d-%06d", state.step(), state.windowExamples())
                : String.format("-%08d", state.step());
        String modelName = "model" + suffix + ".safetensors";
        String optName = "optimizer" + suffix + ".safetensors";
        String gradsName = "grads" + suffix + ".safetensors";

        List<SafeTensors.Entry> weights = new ArrayList<>();
        for (Parameter p : store.parameters()) {
            weights.add(new SafeTensors.Entry(p.name(), p.value().shape(), store.values(), p.offset(),
                    p.storedTransposed()));
        }
        store.buffers().forEach((name, values) -> weights.add(new SafeTensors.Entry(name, new int[] {values.length},
                values, 0, false)));
        Map<String, String> modelMeta = new LinkedHashMap<>();
        modelMeta.put("format", "pt");
        modelMeta.put("producer", "accrue");
        modelMeta.put("step", Long.toString(state.step()));
        modelMeta.putAll(metadata);
        String modelSha = writeAtomically(dir, modelName, f -> SafeTensors.write(f, modelMeta, weights), listener);

        List<SafeTensors.Entry> buffers = new ArrayList<>();
        List<float[]> s = optimizer.state();
        for (int i = 0; i < s.size(); i++) {
            buffers.addAll(perParameter(store, optimizer.stateNames().get(i), s.get(i)));
        }
        Map<String, String> optMeta = new LinkedHashMap<>();
        optMeta.put("optimizer", optimizer.name());
        optMeta.put("steps", Long.toString(optimizer.steps()));
        String optSha = writeAtomically(dir, optName, f -> SafeTensors.write(f, optMeta, buffers), listener);

        String gradsSha = null;
        if (state.windowOpen()) {
            List<SafeTensors.Entry> grads = List.of(new SafeTensors.Entry("grads", new int[] {store.gradSize()},
                    store.grads(), 0, false));
            Map<String, String> gradsMeta = Map.of("window_examples", Integer.toString(state.windowExamples()));
            gradsSha = writeAtomically(dir, gradsName, f -> SafeTensors.write(f, gradsMeta, grads), listener);
        }

        StringBuilder j = new StringBuilder("{\n");
        j.append("  \"format\": ").append(Json.quote(FORMAT)).append(",\n");
        j.append("  \"version\": ").append(VERSION).append(",\n");
        j.append("  \"step\": ").append(state.step()).append(",\n");
        j.append("  \"epoch\": ").append(state.epoch()).append(",\n");
        j.append("  \"cursor\": ").append(state.cursor()).append(",\n");
        if (state.windowOpen()) {
            // the loss sum in hexadecimal: its exact bits (the chain the window's loss continues)
            j.append("  \"window_examples\": ").append(state.windowExamples()).append(",\n");
            j.append("  \"window_loss_sum\": ").append(Json.quote(Double.toHexString(state.windowLossSum())))
                    .append(",\n");
            j.append("  \"window_count\": ").append(state.windowCount()).append(",\n");
        }
        j.append("  \"optimizer\": ").append(Json.quote(optimizer.name())).append(",\n");
        j.append("  \"optimizer_steps\": ").append(optimizer.steps()).append(",\n");
        j.append("  \"model_file\": ").append(fileJson(dir.resolve(modelName), modelSha)).append(",\n");
        j.append("  \"optimizer_file\": ").append(fileJson(dir.resolve(optName), optSha)).append(",\n");
        if (gradsSha != null) {
            j.append("  \"grads_file\": ").append(fileJson(dir.resolve(gradsName), gradsSha)).append(",\n");
        }
        j.append("  \"metadata\": ").append(Json.object(metadata));
        if (meta.run() != null) {
            j.append(",\n  \"run\": ").append(Json.write(meta.run(), 2).replace("\n", "\n  "));
        }
        j.append("\n}\n");
        byte[] sidecar = j.toString().getBytes(StandardCharsets.UTF_8);
        Path target = dir.resolve(sidecarName);
        if (sidecarName.equals(SIDECAR)) {
            // the sidecar last: until it is renamed, the newest checkpoint before stays whole (as the previous one
            // after the first rename, which load falls back to)
            writeTemporary(dir, SIDECAR, f -> Files.write(f, sidecar), listener);
            if (Files.exists(target)) {
                Files.move(target, dir.resolve(PREVIOUS), StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                syncDirectory(dir);
                listener.written(dir.resolve(PREVIOUS));
            }
            Files.move(dir.resolve(SIDECAR + ".tmp"), target, StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(dir);
        } else {
            writeAtomically(dir, sidecarName, f -> Files.write(f, sidecar), listener);
        }
        if (meta.gpt() != null && sidecarName.equals(SIDECAR)) {
            HuggingFaceGpt2.publish(dir, dir.resolve(modelName), meta.gpt());
        }
        deleteUnnamed(dir);
    }

    /** The entries of {@code buffer} (in the parameter layout) for each parameter, as {@code <state>.<parameter>}. */
    private static List<SafeTensors.Entry> perParameter(ParameterStore store, String state, float[] buffer) {
        List<SafeTensors.Entry> entries = new ArrayList<>();
        for (Parameter p : store.parameters()) {
            entries.add(new SafeTensors.Entry(state + "." + p.name(), p.value().shape(), buffer, p.offset(),
                    p.storedTransposed()));
        }
        return entries;
    }

    /**
     * Deletes this format's tensor files (and temporary files) that no sidecar in {@code dir} names; keeps every
     * tensor file while a sidecar cannot be read (it might name them).
     */
    private static void deleteUnnamed(Path dir) throws IOException {
        java.util.Set<String> named = new java.util.HashSet<>();
        boolean unreadable = false;
        List<Path> candidates = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (OWN_FILE.matcher(n).matches()) {
                    candidates.add(f);
                } else if (n.equals(SIDECAR + ".tmp") || n.equals(HuggingFaceGpt2.WEIGHTS + ".tmp")
                        || n.equals(HuggingFaceGpt2.CONFIG + ".tmp")) {
                    Files.deleteIfExists(f);
                } else if (SIDECAR_FILE.matcher(n).matches()) {
                    try {
                        if (Json.parse(Files.readString(f)) instanceof Map<?, ?> m && FORMAT.equals(m.get("format"))) {
                            for (String key : List.of("model_file", "optimizer_file", "grads_file")) {
                                if (m.get(key) instanceof Map<?, ?> e && e.get("name") instanceof String name) {
                                    named.add(name);
                                }
                            }
                        }
                    } catch (IOException | RuntimeException e) {
                        unreadable = true;
                    }
                }
            }
        }
        for (Path f : candidates) {
            String n = f.getFileName().toString();
            if (n.endsWith(".tmp") || !unreadable && !named.contains(n)) {
                Files.deleteIfExists(f);
            }
        }
    }

    private static String fileJson(Path f, String sha) throws IOException {
        return "{\"name\": " + Json.quote(f.getFileName().toString()) + ", \"bytes\": " + Files.size(f)
                + ", \"sha256\": " + Json.quote(sha) + "}";
    }

    @FunctionalInterface
    interface FileWriter {
        void write(Path file) throws IOException;
    }

    /** {@link #writeAtomically(Path, String, FileWriter, WriteListener)} with no listener. */
    static String writeAtomically(Path dir, String name, FileWriter writer) throws IOException {
        return writeAtomically(dir, name, writer, WriteListener.NONE);
    }

    /** Writes via {@code name.tmp}, forces it, renames it over {@code name}, forces the directory; returns SHA-256. */
    private static String writeAtomically(Path dir, String name, FileWriter writer, WriteListener listener)
            throws IOException {
        String sha = writeTemporary(dir, name, writer, listener);
        Files.move(dir.resolve(name + ".tmp"), dir.resolve(name), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(dir);
        return sha;
    }

    /** Writes {@code name.tmp} and forces it to disk; returns its SHA-256. */
    private static String writeTemporary(Path dir, String name, FileWriter writer, WriteListener listener)
            throws IOException {
        Path tmp = dir.resolve(name + ".tmp");
        writer.write(tmp);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        String sha = sha256(tmp);
        listener.written(tmp);
        return sha;
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException ignored) {
            // some file systems cannot sync a directory; the rename is still atomic
        }
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
     * Reads and verifies the newest checkpoint in {@code dir}: the sidecar, the files it names (size and SHA-256), and
     * their safetensors headers. When the newest is damaged (or its sidecar is missing after an interrupted save),
     * the previous one is read instead and {@link #notes()} says why.
     *
     * @throws CheckpointException naming the file and the problem (of the newest, and of the previous one if that
     *                             is damaged too)
     */
    public static Checkpoint load(Path dir) {
        checkDirectory(dir);
        Path latest = dir.resolve(SIDECAR);
        Path previous = dir.resolve(PREVIOUS);
        CheckpointException damaged = null;
        if (Files.exists(latest) || !Files.exists(previous)) {
            try {
                return read(dir, latest, List.of());
            } catch (CheckpointException e) {
                damaged = e;
            }
        }
        if (!Files.exists(previous)) {
            throw damaged;
        }
        String why = damaged != null ? "is damaged (" + damaged.getMessage() + ")"
                : "is missing (a save was interrupted)";
        Checkpoint cp;
        try {
            cp = read(dir, previous, List.of());
        } catch (CheckpointException e) {
            if (damaged == null) {
                throw e;
            }
            throw new CheckpointException(latest, "damaged, and so is the previous checkpoint: " + damaged.getMessage()
                    + "; " + e.getMessage());
        }
        String note = "the newest checkpoint in " + dir + " " + why + "; using the previous one, " + cp.position();
        List<String> notes = new ArrayList<>(cp.notes);
        notes.addFirst(note);
        return new Checkpoint(cp.dir, cp.state, cp.optimizerName, cp.optimizerSteps, cp.modelFile, cp.optimizerFile,
                cp.gradsFile, cp.metadata, cp.run, List.copyOf(notes));
    }

    /**
     * Reads and verifies the checkpoint of sidecar {@code sidecar} in {@code dir} (e.g. one {@link #saveAs saved as}
     * {@code best.json}), with no fallback.
     */
    public static Checkpoint load(Path dir, String sidecar) {
        checkDirectory(dir);
        return read(dir, dir.resolve(sidecar), List.of());
    }

    private static void checkDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new CheckpointException(dir, Files.exists(dir) ? "not a directory" : "no such checkpoint directory");
        }
    }

    private static Checkpoint read(Path dir, Path sidecar, List<String> notes) {
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
        if (!(j.get("version") instanceof Long version) || version < 1) {
            throw new CheckpointException(sidecar, "corrupt: 'version' is " + j.get("version") + ", not a positive "
                    + "integer");
        }
        if (version > VERSION) {
            throw new EnvironmentException(sidecar + ": written by a newer Accrue (checkpoint format version "
                    + version + "; this one reads versions 1 to " + VERSION + "), refused; resume it with the Accrue "
                    + "that wrote it, or upgrade this one");
        }
        List<String> said = new ArrayList<>(notes);
        if (version < VERSION) {
            said.add(sidecar + ": written by an older Accrue (checkpoint format version " + version + "), migrated: "
                    + "read as version " + VERSION + " (what it lacks, such as an open window's gradients, it did not "
                    + "have); the next checkpoint is saved as version " + VERSION);
        }
        TrainerState state;
        try {
            int windowExamples = j.containsKey("window_examples") ? (int) number(sidecar, j, "window_examples") : 0;
            double lossSum = 0;
            if (windowExamples > 0) {
                if (!(j.get("window_loss_sum") instanceof String hex)) {
                    throw new CheckpointException(sidecar, "corrupt: 'window_loss_sum' is missing");
                }
                lossSum = Double.parseDouble(hex);
            }
            state = new TrainerState(number(sidecar, j, "step"), (int) number(sidecar, j, "epoch"),
                    (int) number(sidecar, j, "cursor"), windowExamples, lossSum,
                    windowExamples > 0 ? number(sidecar, j, "window_count") : 0);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(sidecar, "corrupt: " + e.getMessage());
        }
        Path model = verify(dir, sidecar, j.get("model_file"), "model_file");
        Path opt = verify(dir, sidecar, j.get("optimizer_file"), "optimizer_file");
        Path grads = null;
        if (state.windowOpen()) {
            grads = verify(dir, sidecar, j.get("grads_file"), "grads_file");
        }
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
        return new Checkpoint(dir, state, optName, number(sidecar, j, "optimizer_steps"), model, opt, grads,
                meta, run, List.copyOf(said));
    }

    /**
     * Where this checkpoint stands, in words: {@code at step 12} between steps, or
     * {@code at step 12 + 24 examples of the next window} inside one.
     */
    public String position() {
        return "at step " + state.step() + (state.windowOpen() ? " + " + state.windowExamples()
                + " examples of the next window" : "");
    }

    /** What loading had to say: the newest checkpoint was damaged and this is the previous one. Empty normally. */
    public List<String> notes() {
        return notes;
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

    /** The gradient buffer of the open window, or null for a checkpoint between steps. */
    public Path gradsFile() {
        return gradsFile;
    }

    /**
     * Copies the saved weights and buffers ({@link ParameterStore#buffers()}) into {@code store}; names and shapes
     * must match exactly.
     *
     * @throws CheckpointException if the file holds another model's tensors
     */
    public void restoreWeights(ParameterStore store) {
        SafeTensors.Header h = SafeTensors.header(modelFile);
        List<Parameter> params = store.parameters();
        Map<String, float[]> buffers = store.buffers();
        if (h.tensors().size() != params.size() + buffers.size()) {
            throw new CheckpointException(modelFile, "holds " + h.tensors().size() + " tensors, the model has "
                    + (params.size() + buffers.size()) + " (a checkpoint of a different model?)");
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
        for (Map.Entry<String, float[]> b : buffers.entrySet()) {
            SafeTensors.Stored s = h.tensor(b.getKey());
            if (s == null) {
                throw new CheckpointException(modelFile, "has no buffer '" + b.getKey()
                        + "' (a checkpoint of a different model?)");
            }
            SafeTensors.read(modelFile, h, s, new SafeTensors.Entry(b.getKey(), new int[] {b.getValue().length},
                    b.getValue(), 0, false));
        }
    }

    /**
     * Copies the open window's saved gradient sums into {@code store}'s gradient buffer (tied-use slots included);
     * a checkpoint between steps has none, and leaves the buffer alone.
     *
     * @throws CheckpointException if the saved buffer has another size
     */
    public void restoreGradients(ParameterStore store) {
        if (gradsFile == null) {
            return;
        }
        SafeTensors.Header h = SafeTensors.header(gradsFile);
        SafeTensors.Stored s = h.tensor("grads");
        if (s == null || h.tensors().size() != 1) {
            throw new CheckpointException(gradsFile, "holds no single 'grads' tensor");
        }
        SafeTensors.read(gradsFile, h, s, new SafeTensors.Entry("grads", new int[] {store.gradSize()}, store.grads(),
                0, false));
    }

    /**
     * Reads the saved optimizer state into {@code optimizer}'s own buffers (no second copy on the heap), which update
     * {@code store}, and sets its step count; a failure part way leaves the buffers partly read (the run stops).
     * Reads both layouts, told apart by the file's tensor names: per parameter ({@code exp_avg.<parameter>}, version 3)
     * and flat ({@code adamw.0}, before).
     *
     * @throws CheckpointException if the optimizer kind, the tensor names or the sizes differ
     */
    public void restoreOptimizer(Optimizer optimizer, ParameterStore store) {
        if (!optimizer.name().equals(optimizerName)) {
            throw new CheckpointException(optimizerFile, "holds " + optimizerName + " state, this run uses "
                    + optimizer.name());
        }
        SafeTensors.Header h = SafeTensors.header(optimizerFile);
        List<float[]> live = optimizer.state();
        boolean flat = h.tensor(optimizer.name() + ".0") != null;
        int perBuffer = flat ? 1 : store.parameters().size();
        if (h.tensors().size() != live.size() * perBuffer) {
            throw new CheckpointException(optimizerFile, "holds " + h.tensors().size() + " tensors, " + optimizer.name()
                    + " of this model has " + live.size() * perBuffer);
        }
        for (int i = 0; i < live.size(); i++) {
            // read in place: a second copy of the state would not fit the planned heap (AdamW's is twice the weights)
            float[] buf = live.get(i);
            List<SafeTensors.Entry> entries = flat
                    ? List.of(new SafeTensors.Entry(optimizer.name() + "." + i, new int[] {buf.length}, buf, 0, false))
                    : perParameter(store, optimizer.stateNames().get(i), buf);
            for (SafeTensors.Entry e : entries) {
                SafeTensors.Stored s = h.tensor(e.name());
                if (s == null) {
                    throw new CheckpointException(optimizerFile, "has no tensor '" + e.name() + "'");
                }
                SafeTensors.read(optimizerFile, h, s, e);
            }
        }
        optimizer.restore(live, optimizerSteps);
    }
}
