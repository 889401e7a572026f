package io.accrue.cli;

import io.accrue.data.ParallelEncoder;
import io.accrue.data.Tokenizers;
import io.accrue.run.Prepare;
import io.accrue.run.PreparedData;
import io.accrue.run.Run;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code accrue prepare}: text files → {@code train.bin}, {@code val.bin} and {@code meta.json} ({@link Prepare}),
 * with a progress bar over the bytes read.
 */
@Command(name = "prepare", sortOptions = false, showDefaultValues = true, mixinStandardHelpOptions = true,
        description = {"Tokenize text into token shards for 'accrue train --data DIR': train.bin and val.bin "
                + "(little-endian uint16 ids, nanoGPT's format; uint32 for vocabularies beyond 65,536) and meta.json.",
                "Files are read in order (a directory: its files sorted by path; .gz decompressed), tokenized on all "
                        + "cores with exactly the ids of encoding each file whole, and separated by <|endoftext|>; "
                        + "the last --val-fraction of the token stream becomes val.bin."})
final class PrepareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data", paramLabel = "FILE|DIR", required = true, arity = "1..*",
            description = "UTF-8 text files (.gz too) or directories of them, in order.")
    List<Path> data;

    @Option(names = "--tokenizer", paramLabel = "NAME", defaultValue = "gpt2",
            description = "gpt2 (GPT-2's byte-level BPE, r50k_base, V 50,257) or bytes (V 256).")
    String tokenizer;

    @Option(names = "--val-fraction", paramLabel = "F", defaultValue = "0.1",
            description = "Share of the token stream, at its end, that goes to val.bin.")
    double valFraction;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true,
            description = "Output directory (created if missing; its shards are replaced at the end).")
    Path out;

    @Option(names = "--threads", paramLabel = "N", description = "Tokenizing threads. Default: all cores.")
    Integer threads;

    @Option(names = "--invalid-utf8", paramLabel = "MODE", defaultValue = "refuse",
            description = "refuse: stop at the first invalid byte sequence, naming the file and offset; replace: "
                    + "replace each by U+FFFD (counted in meta.json).")
    String invalidUtf8;

    @Option(names = "--progress", paramLabel = "MODE", defaultValue = "auto",
            description = "plain, bar or auto (the bar on a terminal).")
    String progressOption;

    @Option(names = "--chunk-chars", paramLabel = "N", hidden = true,
            description = "Characters per tokenizing chunk (tests).")
    Integer chunkChars;

    @Override
    public Integer call() throws IOException {
        PrintWriter console = spec.commandLine().getOut();
        Progress.Mode mode = TrainOptions.parseEnum(Progress.Mode.class, "--progress", progressOption,
                "plain, bar or auto");
        boolean replace = switch (invalidUtf8.toLowerCase(Locale.ROOT)) {
            case "refuse" -> false;
            case "replace" -> true;
            default -> throw new UsageException("--invalid-utf8: unknown value '" + invalidUtf8
                    + "'; use refuse or replace");
        };
        if (threads != null) {
            TrainOptions.positive("--threads", threads);
        }
        if (chunkChars != null && chunkChars < 2) {
            throw new UsageException("--chunk-chars must be at least 2, got " + chunkChars);
        }
        Prepare.Options options = new Prepare.Options(data, Tokenizers.byName(tokenizer), valFraction, out,
                threads != null ? threads : Runtime.getRuntime().availableProcessors(), replace,
                chunkChars != null ? chunkChars : ParallelEncoder.CHUNK_CHARS);
        long t0 = System.nanoTime();
        Timing timing = new Timing(listener(console, mode));
        PreparedData p = Prepare.run(options, timing);
        double seconds = (System.nanoTime() - t0) / 1e9;
        console.println(String.format(Locale.ROOT, "prepared %s: train.bin %,d tokens, val.bin %,d tokens (%s, V %,d, "
                        + "%s) from %s of text in %s (%.1f MB/s)", out, p.trainTokens(), p.valTokens(), p.tokenizer(),
                p.vocab(), p.tokenBytes() == 2 ? "uint16" : "uint32", Run.bytes(timing.bytes), Run.clock(seconds),
                timing.bytes / 1e6 / seconds));
        console.flush();
        return 0;
    }

    /** Keeps the byte total for the summary. */
    private static final class Timing implements Prepare.Listener {
        private final Prepare.Listener inner;
        long bytes;

        Timing(Prepare.Listener inner) {
            this.inner = inner;
        }

        @Override
        public void started(int files, long total) {
            bytes = total;
            inner.started(files, total);
        }

        @Override
        public void progress(long read) {
            inner.progress(read);
        }

        @Override
        public void finished() {
            inner.finished();
        }
    }

    /**
     * How preparation shows on the console ({@code accrue prepare}, and {@code accrue train} preparing a text file on
     * the fly): a bar over the bytes read on a terminal, else a line at the start and one per 10% read.
     */
    static Prepare.Listener listener(PrintWriter out, Progress.Mode mode) {
        boolean bar = mode.resolve() == Progress.Mode.BAR;
        return new Prepare.Listener() {
            private ProgressBar progress;
            private long total;
            private int tenth;

            @Override
            public void started(int files, long bytes) {
                total = bytes;
                out.println(String.format(Locale.ROOT, "tokenizing %d file%s, %s", files, files == 1 ? "" : "s",
                        Run.bytes(bytes)));
                out.flush();
                if (bar) {
                    progress = new ProgressBarBuilder().setTaskName("prepare").setInitialMax(Math.max(1, bytes))
                            .setUnit(" MiB", 1 << 20).setUpdateIntervalMillis(250).showSpeed()
                            .setStyle(mode == Progress.Mode.AUTO ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK
                                    : ProgressBarStyle.ASCII)
                            .setConsumer(new Progress.WriterConsumer(out, Progress.Bar.terminalWidth())).build();
                }
            }

            @Override
            public void progress(long bytes) {
                if (progress != null) {
                    progress.stepTo(bytes);
                } else if (total > 0 && bytes * 10 / total > tenth) {
                    tenth = (int) (bytes * 10 / total);
                    out.println(String.format(Locale.ROOT, "tokenized %s of %s (%d%%)", Run.bytes(bytes),
                            Run.bytes(total), tenth * 10));
                    out.flush();
                }
            }

            @Override
            public void finished() {
                if (progress != null) {
                    progress.stepTo(total);
                    progress.close();
                    progress = null;
                }
            }
        };
    }
}
