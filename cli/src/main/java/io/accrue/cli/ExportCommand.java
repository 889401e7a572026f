package io.accrue.cli;

import io.accrue.run.Run;
import io.accrue.run.RunSpec;
import io.accrue.train.Checkpoint;
import io.accrue.train.HuggingFaceGpt2;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code accrue export}: writes a GPT checkpoint as a Hugging Face GPT-2 directory, {@code config.json} and
 * {@code model.safetensors} ({@link HuggingFaceGpt2#export}), which {@code GPT2LMHeadModel.from_pretrained} loads as it
 * is. Everything is checked before {@code --out} is touched.
 */
@Command(name = "export", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Write a checkpoint as a Hugging Face GPT-2 directory (config.json and model.safetensors) that "
                + "GPT2LMHeadModel.from_pretrained loads as it is.")
final class ExportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", paramLabel = "DIR", required = true, description = "A run's --out directory "
            + "(its checkpoint/), or a checkpoint directory such as RUN/checkpoint-best.")
    Path checkpoint;

    @Option(names = {"-o", "--out"}, paramLabel = "DIR", required = true, description = "The directory to write "
            + "(created if missing; its config.json and model.safetensors are replaced).")
    Path out;

    @Override
    public Integer call() throws IOException {
        Path inRun = checkpoint.resolve(Run.CHECKPOINT_DIR);
        boolean runDir = !Checkpoint.exists(checkpoint) && Checkpoint.exists(inRun);
        Checkpoint cp = Checkpoint.load(runDir ? inRun : checkpoint);
        cp.notes().forEach(n -> spec.commandLine().getErr().println("accrue: " + n));
        RunSpec run = RunSpec.fromCheckpoint(cp);
        if (run.gpt() == null) {
            throw new UsageException("--checkpoint " + checkpoint + ": a Fashion-MNIST classifier is not a GPT-2; "
                    + "export a checkpoint of a GPT task (addition or --data)");
        }
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new UsageException("--out " + out + " is a file; give a directory (it is created if missing)");
        }
        if (Checkpoint.exists(out)) {
            throw new UsageException("--out " + out + " is a checkpoint directory (which loads into Hugging Face as "
                    + "it is); give another directory");
        }
        HuggingFaceGpt2.export(cp.modelFile(), run.gpt(), out);
        spec.commandLine().getOut().println("exported " + cp.dir() + " (" + cp.position() + ", " + run.gpt()
                + ") to " + out + ": GPT2LMHeadModel.from_pretrained(\"" + out + "\") loads it");
        return 0;
    }
}
