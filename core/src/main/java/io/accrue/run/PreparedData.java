package io.accrue.run;

import io.accrue.data.TokenShard;
import io.accrue.data.Tokenizers;
import io.accrue.train.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A directory of token shards: {@code train.bin} and {@code val.bin} — little-endian unsigned ids, uint16 (nanoGPT's
 * format) or uint32 — and {@code meta.json}, as {@code accrue prepare} ({@link Prepare}) writes them. A directory
 * prepared by nanoGPT's scripts has no {@code meta.json}: its shards are read as uint16 ids of the tokenizer given
 * (GPT-2's by default).
 *
 * <p>{@link #open} checks the shards against {@code meta.json} (sizes; the SHA-256 it records names the data in
 * checkpoints) without reading them; the shards are memory-mapped ({@link TokenShard}).
 *
 * @param dir          the directory
 * @param tokenizer    the tokenizer's name
 * @param vocab        V
 * @param tokenBytes   bytes per id: 2 or 4
 * @param trainTokens  ids in {@code train.bin}
 * @param valTokens    ids in {@code val.bin} (0 when there is none)
 * @param trainSha256  SHA-256 of {@code train.bin}
 * @param sources      the text files it was prepared from, each with {@code path}, {@code bytes}, {@code sha256}
 *                     (empty without {@code meta.json})
 * @param hasMeta      whether {@code meta.json} describes it
 */
public record PreparedData(Path dir, String tokenizer, int vocab, int tokenBytes, long trainTokens, long valTokens,
                           String trainSha256, List<Map<String, Object>> sources, boolean hasMeta) {
    /** The training shard's name. */
    public static final String TRAIN = "train.bin";
    /** The validation shard's name. */
    public static final String VAL = "val.bin";
    /** The metadata's name. */
    public static final String META = "meta.json";
    /** The {@code format} of {@code meta.json}. */
    static final String FORMAT = "accrue-tokens";
    static final Set<String> META_KEYS = Set.of("format", "version", "tokenizer", "vocab_size", "dtype",
            "token_bytes", "end_of_text", "train_tokens", "val_tokens", "val_fraction", "train_sha256", "val_sha256",
            "characters", "invalid_utf8", "replaced_invalid_utf8", "sources");

    /** Whether {@code dir} looks like prepared data: a directory with {@code meta.json} or {@code train.bin}. */
    public static boolean isPrepared(Path dir) {
        return Files.isDirectory(dir) && (Files.isRegularFile(dir.resolve(META))
                || Files.isRegularFile(dir.resolve(TRAIN)));
    }

    /**
     * Reads {@code dir}'s {@code meta.json} and checks the shards' sizes against it; without {@code meta.json}, takes
     * {@code train.bin} (and {@code val.bin} if present) as uint16 ids of {@code tokenizerIfNoMeta} (null: gpt2) and,
     * with {@code scan}, checks their largest id against its vocabulary and hashes {@code train.bin} (one pass over
     * the shards; {@link #trainSha256} is null without it).
     *
     * @throws IllegalArgumentException one line naming what is missing or does not match, and the fix
     */
    public static PreparedData open(Path dir, String tokenizerIfNoMeta, boolean scan) {
        String where = "--data " + dir;
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(where + ": no such directory; prepare one with accrue prepare --data "
                    + "FILE --out " + dir);
        }
        Path meta = dir.resolve(META);
        if (Files.isRegularFile(meta)) {
            return fromMeta(dir, meta);
        }
        if (!Files.isRegularFile(dir.resolve(TRAIN))) {
            throw new IllegalArgumentException(where + ": is a directory without " + TRAIN + " or " + META + "; give a "
                    + "text file, or a directory prepared by accrue prepare --data FILE --out DIR");
        }
        String tok = tokenizerIfNoMeta != null ? tokenizerIfNoMeta : "gpt2";
        int vocab = Tokenizers.byName(tok).vocabSize();
        TokenShard train = TokenShard.map(dir.resolve(TRAIN), 2);
        long val = 0;
        if (scan) {
            checkIds(train, vocab, tok);
        }
        if (Files.isRegularFile(dir.resolve(VAL))) {
            TokenShard v = TokenShard.map(dir.resolve(VAL), 2);
            if (scan) {
                checkIds(v, vocab, tok);
            }
            val = v.size();
        }
        return new PreparedData(dir, tok, vocab, 2, train.size(), val, scan ? sha256(train.file()) : null, List.of(),
                false);
    }

    private static void checkIds(TokenShard shard, int vocab, String tok) {
        int max = shard.max();
        if (max >= vocab) {
            throw new IllegalArgumentException(shard.file() + ": holds token id " + max + ", outside the " + tok
                    + " tokenizer's vocabulary of " + vocab + "; give the tokenizer it was made with (--tokenizer) or "
                    + "prepare the data again with accrue prepare");
        }
    }

    private static PreparedData fromMeta(Path dir, Path meta) {
        String where = meta.toString();
        Map<?, ?> m;
        try {
            if (!(Json.parse(Files.readString(meta)) instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException(where + ": not a JSON object; prepare the data again with accrue "
                        + "prepare");
            }
            m = map;
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": cannot read (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": malformed JSON (" + e.getMessage() + "); prepare the data "
                    + "again with accrue prepare");
        }
        for (Object k : m.keySet()) {
            if (!META_KEYS.contains(k)) {
                throw new IllegalArgumentException(where + ": unknown key '" + k + "'; known keys: "
                        + String.join(", ", new TreeSet<>(META_KEYS)));
            }
        }
        if (!FORMAT.equals(m.get("format"))) {
            throw new IllegalArgumentException(where + ": format " + m.get("format") + " is not " + FORMAT
                    + "; prepare the data again with accrue prepare");
        }
        String tokenizer = string(m, "tokenizer", where);
        long vocab = whole(m, "vocab_size", where);
        long width = whole(m, "token_bytes", where);
        String dtype = string(m, "dtype", where);
        if (!(width == 2 && dtype.equals("uint16") || width == 4 && dtype.equals("uint32"))) {
            throw new IllegalArgumentException(where + ": dtype " + dtype + " with token_bytes " + width + " is not "
                    + "uint16/2 or uint32/4; prepare the data again with accrue prepare");
        }
        if (vocab < 2 || vocab > (width == 2 ? 65536 : Integer.MAX_VALUE)) {
            throw new IllegalArgumentException(where + ": vocab_size " + vocab + " does not fit " + dtype
                    + " ids; prepare the data again with accrue prepare");
        }
        long trainTokens = whole(m, "train_tokens", where);
        long valTokens = whole(m, "val_tokens", where);
        checkSize(dir.resolve(TRAIN), trainTokens, (int) width, meta);
        checkSize(dir.resolve(VAL), valTokens, (int) width, meta);
        List<Map<String, Object>> sources = new java.util.ArrayList<>();
        if (m.get("sources") instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> s) {
                    Map<String, Object> copy = new LinkedHashMap<>();
                    s.forEach((k, v) -> copy.put(String.valueOf(k), v));
                    sources.add(copy);
                }
            }
        }
        return new PreparedData(dir, tokenizer, (int) vocab, (int) width, trainTokens, valTokens,
                string(m, "train_sha256", where), List.copyOf(sources), true);
    }

    private static void checkSize(Path shard, long tokens, int width, Path meta) {
        long expected = tokens * width;
        if (!Files.isRegularFile(shard)) {
            if (tokens == 0) {
                return;
            }
            throw new IllegalArgumentException(shard + ": missing, but " + meta.getFileName() + " records " + tokens
                    + " tokens in it; prepare the data again with accrue prepare");
        }
        long size;
        try {
            size = Files.size(shard);
        } catch (IOException e) {
            throw new IllegalArgumentException(shard + ": cannot read (" + e.getMessage() + ")");
        }
        if (size % width != 0) {
            throw new IllegalArgumentException(shard + ": " + size + " bytes is not a whole number of " + width
                    + "-byte token ids (a truncated or foreign file); prepare the data again with accrue prepare");
        }
        if (size != expected) {
            throw new IllegalArgumentException(shard + ": holds " + size / width + " tokens, but " + meta
                    + " records " + tokens + " (" + expected + " bytes); the shards and meta.json do not belong "
                    + "together — prepare the data again with accrue prepare");
        }
    }

    private static String string(Map<?, ?> m, String key, String where) {
        if (!(m.get(key) instanceof String s)) {
            throw new IllegalArgumentException(where + ": '" + key + "' is missing or not a string; prepare the data "
                    + "again with accrue prepare");
        }
        return s;
    }

    private static long whole(Map<?, ?> m, String key, String where) {
        if (!(m.get(key) instanceof Long l) || l < 0) {
            throw new IllegalArgumentException(where + ": '" + key + "' is missing or not a whole number; prepare "
                    + "the data again with accrue prepare");
        }
        return l;
    }

    /** The training shard, memory-mapped. */
    public TokenShard train() {
        return TokenShard.map(dir.resolve(TRAIN), tokenBytes);
    }

    /** The validation shard, memory-mapped; null when there is none. */
    public TokenShard val() {
        return Files.isRegularFile(dir.resolve(VAL)) ? TokenShard.map(dir.resolve(VAL), tokenBytes) : null;
    }

    static String sha256(Path f) {
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new IllegalArgumentException(f + ": cannot read (" + e.getMessage() + ")");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
