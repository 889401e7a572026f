package io.accrue.spark;

import io.accrue.models.Gpt;
import io.accrue.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Driver failure: a run stopped after step 2 and resumed from its checkpoint ends with the uninterrupted bits. */
class SparkTrainResumeTest {

    static final String[] OPTIONS = {"--master", "local[2]", "--workers", "2", "--digits", "2", "--train-size", "256",
        "-b", "4", "-k", "2", "--steps", "4", "--threads", "1", "--checkpoint-every", "2"};

    static int run(Path out, String... extra) {
        String[] args = new String[OPTIONS.length + 2 + extra.length];
        System.arraycopy(OPTIONS, 0, args, 0, OPTIONS.length);
        args[OPTIONS.length] = "--out";
        args[OPTIONS.length + 1] = out.toString();
        System.arraycopy(extra, 0, args, OPTIONS.length + 2, extra.length);
        return new CommandLine(new SparkTrain()).execute(args);
    }

    static float[] weights(Path out) {
        Checkpoint cp = Checkpoint.load(out.resolve("checkpoint"));
        assertEquals(4, cp.state().step());
        SparkTrain opts = new SparkTrain();
        new CommandLine(opts).parseArgs(java.util.stream.Stream.concat(java.util.Arrays.stream(OPTIONS),
                java.util.stream.Stream.of("--out", out.toString())).toArray(String[]::new));
        Gpt model = new Gpt(opts.recipe().config(), 1);
        cp.restoreWeights(model.parameters());
        return model.parameters().values();
    }

    @Test
    void resumedRunEndsWithTheUninterruptedBits(@TempDir Path dir) {
        assertEquals(0, run(dir.resolve("straight")));
        assertEquals(0, run(dir.resolve("crashed"), "--stop-after", "2"));
        assertEquals(2, Checkpoint.load(dir.resolve("crashed/checkpoint")).state().step());
        assertEquals(0, run(dir.resolve("crashed"), "--resume", dir.resolve("crashed").toString()));
        assertArrayEquals(weights(dir.resolve("straight")), weights(dir.resolve("crashed")));
    }
}
