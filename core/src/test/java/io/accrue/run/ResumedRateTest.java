package io.accrue.run;

import io.accrue.models.GptConfig;
import io.accrue.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The throughput of the first step after a resume inside a window counts only the examples run since. */
class ResumedRateTest {
    @TempDir
    Path tmp;

    @Test
    void theFirstStepAfterAMidWindowResumeCountsOnlyItsOwnExamples() throws IOException {
        Path data = PreparedText.bytes(tmp, 6_000, 0.1);
        RunSpec spec = RunSpec.builder(TaskKind.TEXT).data(data).shape(new GptConfig(1, 2, 32, 16, 256, 0f))
                .context(16).train(t -> t.microBatch(2).accumulationSteps(4).maxSteps(3).threads(1).seed(5))
                .out(tmp.resolve("run")).build();
        Run<?> first = Run.prepare(spec, null);
        first.execute(new RunListener() {
            @Override
            public void microBatch(long step, int micro, int k) {
                if (step == 1 && micro == 2) {
                    first.stop();
                }
            }
        });
        Checkpoint cp = Checkpoint.load(tmp.resolve("run").resolve(Run.CHECKPOINT_DIR));
        int before = cp.state().windowExamples();
        assertEquals(6, before, "stopped after 3 of step 1's 4 micro-batches of 2");
        List<StepReport> reports = new ArrayList<>();
        Run.prepare(RunSpec.fromCheckpoint(cp), cp).execute(new RunListener() {
            @Override
            public void step(StepReport report) {
                reports.add(report);
            }
        });
        StepReport resumed = reports.getFirst();
        assertEquals(1, resumed.metrics().step());
        assertEquals(8, resumed.metrics().examples(), "the window holds all its examples");
        assertEquals((8 - before) * 16, resumed.rate() * resumed.metrics().seconds(), 1e-6,
                "tokens of the 1 micro-batch run after the resume, over its time");
        StepReport next = reports.get(1);
        assertEquals(8 * 16, next.rate() * next.metrics().seconds(), 1e-6);
    }
}
