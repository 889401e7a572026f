package io.accrue.run;

import io.accrue.models.GptConfig;
import io.accrue.train.TrainConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Concurrent micro-batches left to Accrue ({@link TrainConfig#AUTO_CONCURRENT}): {@link Run#prepare} runs one per
 * thread when its plan fits the machine's memory (or the budget), plans and records that, and trains the same bits.
 */
class ConcurrentChoiceTest {
    /** ~56 MB of activations at B = 2: within the range where lanes pay ({@link io.accrue.train.MicroBatchLanes}). */
    private static final GptConfig SHAPE = new GptConfig(4, 4, 256, 256, 256, 0f);

    @TempDir
    Path tmp;
    private Path data;

    @BeforeEach
    void prepare() throws IOException {
        data = PreparedText.bytes(tmp, 20_000, 0.1);
    }

    @AfterEach
    void machineAsItIs() {
        System.clearProperty(MachineMemory.PROPERTY);
    }

    private RunSpec spec(String name, int concurrent) {
        return RunSpec.builder(TaskKind.TEXT).data(data).shape(SHAPE).context(256).train(t -> t.microBatch(2)
                .accumulationSteps(4).maxSteps(2).warmupSteps(1).threads(2).seed(5)
                .concurrentMicroBatches(concurrent)).out(tmp.resolve(name)).build();
    }

    @Test
    void oneLanePerThreadWhenThePlanFits() {
        Run<?> run = Run.prepare(spec("auto", TrainConfig.AUTO_CONCURRENT), null);
        assertEquals(2, run.spec().train().concurrentMicroBatches());
        assertEquals(2, run.plan().concurrent(), "the plan counts both lanes' arenas");
        assertEquals(Run.prepare(spec("two", 2), null).plannedBytes(), run.plannedBytes());
    }

    @Test
    void oneAtATimeForKernelsTooSmallToPay() {
        RunSpec small = RunSpec.builder(TaskKind.TEXT).data(data).shape(new GptConfig(1, 2, 32, 16, 256, 0f))
                .context(16).train(t -> t.microBatch(2).accumulationSteps(4).threads(2)
                        .concurrentMicroBatches(TrainConfig.AUTO_CONCURRENT)).out(tmp.resolve("small")).build();
        assertEquals(1, Run.prepare(small, null).spec().train().concurrentMicroBatches());
    }

    @Test
    void oneAtATimeWhenTwoLanesWouldNotFitTheMachine() {
        long one = Run.prepare(spec("one", 1), null).plannedBytes();
        long two = Run.prepare(spec("two", 2), null).plannedBytes();
        assertTrue(two > one, "a second lane holds a second micro-batch of activations");
        System.setProperty(MachineMemory.PROPERTY, Long.toString(two - 1));
        Run<?> run = Run.prepare(spec("auto", TrainConfig.AUTO_CONCURRENT), null);
        assertEquals(1, run.spec().train().concurrentMicroBatches());
        assertEquals(one, run.plannedBytes());
        System.setProperty(MachineMemory.PROPERTY, Long.toString(two));
        assertEquals(2, Run.prepare(spec("auto2", TrainConfig.AUTO_CONCURRENT), null).spec().train()
                .concurrentMicroBatches());
    }

    @Test
    void theChosenLanesTrainTheSameBitsAsOneAtATime() throws IOException {
        RunResult auto = Run.prepare(spec("auto", TrainConfig.AUTO_CONCURRENT), null).execute(RunListener.NONE);
        RunResult one = Run.prepare(spec("one", 1), null).execute(RunListener.NONE);
        assertEquals(2, auto.spec().train().concurrentMicroBatches());
        assertEquals(one.history().getLast().loss(), auto.history().getLast().loss());
        assertArrayEquals(Files.readAllBytes(tmp.resolve("one/checkpoint/model.safetensors")),
                Files.readAllBytes(tmp.resolve("auto/checkpoint/model.safetensors")));
    }
}
