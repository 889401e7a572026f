package io.accrue.run;

import io.accrue.data.ByteTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A text of numbered lines prepared into byte-token shards, for run-layer tests. */
final class PreparedText {
    private PreparedText() {
    }

    /** At least {@code chars} characters prepared into {@code dir/data} with {@code valFraction} held out. */
    static Path bytes(Path dir, int chars, double valFraction) throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < chars; i++) {
            text.append("line ").append(i).append(": the quick brown fox ").append(i * 7 % 13).append(" jumps.\n");
        }
        Path f = Files.writeString(dir.resolve("text.txt"), text);
        Path data = dir.resolve("data");
        Prepare.run(new Prepare.Options(List.of(f), new ByteTokenizer(), valFraction, data), Prepare.Listener.NONE);
        return data;
    }
}
