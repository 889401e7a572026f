package io.accrue.run;

import io.accrue.data.AdditionTask;
import io.accrue.data.Dataset;
import io.accrue.data.SequenceDataset;
import io.accrue.models.TokenBatch;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The token data a GPT task trains on: the generated addition problems or a byte-level language model of a text
 * file (see {@link GptTask}).
 *
 * @param description one line for the console
 * @param data        the training examples
 * @param seq         T, tokens per training sequence
 * @param vocab       V
 * @param addition    the addition task, or null for a text file
 * @param identity    strings that name the data exactly (saved in checkpoints, compared on resume)
 * @param name        the task's name: {@code addition} or {@code text}
 */
public record TokenData(String description, Dataset<TokenBatch> data, int seq, int vocab, AdditionTask addition,
                 Map<String, String> identity, String name) {

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
                AdditionTask.VOCABULARY.size(), t, id, "addition");
    }

    /** A generous estimate of the heap the examples occupy: 8 bytes per token plus 64 per sequence. */
    public long footprintBytes() {
        return data.size() * ((seq + 1) * 8L + 64);
    }

    /** Byte-level sequences of T+1 bytes of {@code file}, stride T, so every byte after the first is a target once. */
    public static TokenData bytes(Path file, int seq) {
        byte[] bytes = readData(file, seq);
        List<int[]> seqs = new ArrayList<>();
        for (int start = 0; start + 1 < bytes.length; start += seq) {
            int end = Math.min(bytes.length, start + seq + 1);
            int[] s = new int[end - start];
            for (int i = 0; i < s.length; i++) {
                s[i] = bytes[start + i] & 0xff;
            }
            seqs.add(s);
        }
        Map<String, String> id = new LinkedHashMap<>();
        id.put("task", "bytes");
        id.put("data", file.toString());
        id.put("data_sha256", sha256(bytes));
        id.put("context", Integer.toString(seq));
        return new TokenData(String.format("%,d bytes of %s in %,d sequences of up to %d+1 bytes (V 256)", bytes.length,
                file, seqs.size(), seq), new SequenceDataset(seqs, seq), seq, 256, null, id, "text");
    }

    private static byte[] readData(Path file, int seq) {
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("--data " + file + ": no such file; give a UTF-8 text file to train on");
        }
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException("--data " + file + ": is a directory; give a UTF-8 text file to train on");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (AccessDeniedException e) {
            throw new IllegalArgumentException("--data " + file + ": permission denied; make it readable (chmod +r)");
        } catch (IOException | OutOfMemoryError e) {
            throw new IllegalArgumentException("--data " + file + ": cannot read (" + e.getMessage() + ")");
        }
        if (bytes.length == 0) {
            throw new IllegalArgumentException("--data " + file + ": is empty; give a text file with at least 2 bytes (ideally "
                    + "many times the context " + seq + ")");
        }
        if (bytes.length < 2) {
            throw new IllegalArgumentException("--data " + file + ": has only " + bytes.length + " byte; give at least 2");
        }
        return bytes;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
