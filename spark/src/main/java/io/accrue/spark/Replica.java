package io.accrue.spark;

import io.accrue.run.Run;
import io.accrue.run.RunListener;
import io.accrue.run.RunSpec;
import io.accrue.run.StepReport;
import io.accrue.train.Checkpoint;
import io.accrue.train.StepListener;
import io.accrue.train.StepMetrics;
import io.accrue.train.Trainer;
import org.apache.spark.BarrierTaskContext;

import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One long-lived barrier task: a replica of the run (model, optimizer state, data cursor) built from its
 * {@link RunSpec}, training the whole run in step with the others over a {@link Ring}.
 *
 * <p>Rendezvous: each task listens on its executor's host, {@link BarrierTaskContext#allGather} swaps the
 * addresses, and the ring is joined. Start: the spec's checkpoint ({@code --resume}) on the stage's first attempt;
 * on a retried attempt (a task of the stage failed, so Spark restarted all of them), the run directory's own
 * {@code checkpoint/} when there is one. Every replica loads the same checkpoint (they check its position through
 * the barrier). Rank 0 executes the {@link Run} — it alone writes the run directory: metrics, checkpoints, results;
 * the other ranks train a {@link Run#newTrainer} of the same run and write nothing.
 *
 * @param specJson  the run, as JSON; its output directory must be one path every executor reaches (a shared file
 *                  system), since a restarted stage resumes from the checkpoint rank 0 wrote there
 * @param resume    the checkpoint directory to start from, or null
 * @param stopAfter stop after this step, as if interrupted (0: never)
 * @param failAt    tests: the last rank throws when reaching this step on the stage's first attempt (0: never)
 */
record Replica(String specJson, String resume, long stopAfter, long failAt) implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Runs this task's replica to the end; rank 0 returns the run's console text (one string), the others none. */
    List<String> train() {
        try {
            List<String> lines = trainReplica();
            return lines.isEmpty() ? lines : List.of(String.join(System.lineSeparator(), lines));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private List<String> trainReplica() throws IOException {
        BarrierTaskContext task = BarrierTaskContext.get();
        int rank = task.partitionId();
        RunSpec spec = withThreads(RunSpec.fromJson(specJson), Math.max(1, task.cpus()));
        Checkpoint checkpoint = startingPoint(task, spec.out());
        String host = host(task.getTaskInfos()[rank].address());
        Ring ring;
        try (ServerSocketChannel server = Ring.listen(host)) {
            ring = Ring.join(rank, Arrays.asList(task.allGather(Ring.address(host, server))), server);
        }
        try (ring) {
            List<String> positions = Arrays.asList(task.allGather(checkpoint == null ? "start"
                    : checkpoint.dir() + " " + checkpoint.position()));
            if (positions.stream().distinct().count() > 1) {
                throw new IllegalStateException("replicas would start from different checkpoints: " + positions);
            }
            Run<?> run = Run.prepare(spec, checkpoint).gradientSync(new RingGradientSync(ring));
            boolean injectFailure = failAt > 0 && rank == ring.size() - 1 && task.stageAttemptNumber() == 0;
            return rank == 0 ? primary(run) : secondary(run, injectFailure);
        }
    }

    /** Rank 0: executes the run, writing its directory; returns its console lines. */
    private List<String> primary(Run<?> run) throws IOException {
        List<String> lines = new ArrayList<>();
        run.execute(new RunListener() {
            @Override
            public void line(String text) {
                lines.add(text);
                System.out.println(text);
            }

            @Override
            public void step(StepReport r) {
                System.out.printf(Locale.ROOT, "step %d  loss %.4f  %,.0f tok/s%n", r.metrics().step() + 1,
                        r.metrics().loss(), r.rate());
                if (stopAfter > 0 && r.metrics().step() + 1 >= stopAfter) {
                    run.stop();
                }
            }
        });
        return lines;
    }

    /** Ranks 1..W−1: the same training, nothing written. */
    private List<String> secondary(Run<?> run, boolean injectFailure) {
        try (Trainer<?> trainer = run.newTrainer()) {
            trainer.addListener(new StepListener() {
                @Override
                public void onStep(StepMetrics m) {
                    if (injectFailure && m.step() + 1 >= failAt) {
                        throw new IllegalStateException("injected failure of the last replica at step " + failAt);
                    }
                    if (stopAfter > 0 && m.step() + 1 >= stopAfter) {
                        trainer.stop();
                    }
                }
            });
            trainer.fit();
        }
        return List.of();
    }

    /** The checkpoint this attempt starts from: the run directory's own on a retried stage, else {@link #resume}. */
    private Checkpoint startingPoint(BarrierTaskContext task, Path out) {
        Path own = out.resolve(Run.CHECKPOINT_DIR);
        if (task.stageAttemptNumber() > 0 && Checkpoint.exists(own)) {
            return Checkpoint.load(own);
        }
        return resume == null ? null : Checkpoint.load(Path.of(resume));
    }

    /** {@code spec} with {@code threads} per replica (Spark's {@code spark.task.cpus}); threads do not change bits. */
    private static RunSpec withThreads(RunSpec spec, int threads) {
        return spec.toBuilder().train(t -> t.threads(threads)
                .concurrentMicroBatches(Math.min(threads, spec.train().concurrentMicroBatches()))).build();
    }

    /** The host of an executor's {@code host:port}. */
    private static String host(String address) {
        int colon = address.lastIndexOf(':');
        return colon < 0 ? address : address.substring(0, colon);
    }
}
