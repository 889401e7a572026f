import io.accrue.autograd.Tape;
import io.accrue.models.Gpt;
import io.accrue.models.TokenBatch;
import io.accrue.tensor.Arena;
import io.accrue.tensor.Compute;
import io.accrue.train.HuggingFaceGpt2;
import io.accrue.train.SafeTensors;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Accrue's side of {@code hf-check.py}: imports the Hugging Face GPT-2 directory {@code args[0]} (an Accrue
 * checkpoint directory or {@code accrue export}'s are such directories) and writes its logits (B, T, V) on
 * {@code hf-check.py}'s fixed batch — B = 2 rows of T = min(32, n_positions) ids {@code (7919·i + 13) mod V} — to
 * the safetensors file {@code args[1]}. Run as a single-file program with the accrue jar on the class path.
 */
public final class HfLogits {
    public static void main(String[] args) throws Exception {
        HuggingFaceGpt2 hf = HuggingFaceGpt2.open(Path.of(args[0]));
        Gpt gpt = new Gpt(hf.config(), 0);
        hf.restore(gpt.parameters());
        int b = 2;
        int t = Math.min(32, hf.config().context());
        int v = hf.config().vocab();
        int[] ids = new int[b * t];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (int) ((7919L * i + 13) % v);
        }
        try (Compute compute = new Compute(Runtime.getRuntime().availableProcessors())) {
            Tape tape = new Tape(compute, new Arena());
            tape.setTraining(false);
            float[] logits = gpt.logits(tape, new TokenBatch(ids, new int[b * t], new long[] {0, 1}, b, t)).toArray();
            SafeTensors.write(Path.of(args[1]), Map.of("format", "pt"),
                    List.of(new SafeTensors.Entry("logits", new int[] {b, t, v}, logits, 0, false)));
        }
    }
}
