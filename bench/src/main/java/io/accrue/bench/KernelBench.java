package io.accrue.bench;

import io.accrue.tensor.Compute;
import io.accrue.tensor.Parallel;
import io.accrue.tensor.gemm.Gemm;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The common base of the JMH kernel benchmarks ({@code *Jmh}, run by {@code bench/jmh.sh}): defaults that every
 * subclass inherits (average time in µs, one fork with {@code jdk.incubator.vector}, 5 warm-up and 5 measured
 * iterations of 1 s: the Vector API kernels run interpreted, hundreds of times slower, until C2 has compiled them,
 * which on a loaded 2-core machine took more than 2 s), inputs drawn from a fixed seed, and the thread team of the benchmarks that have a
 * {@code threads} parameter.
 *
 * <p>Subclasses build their inputs and output buffers once in their {@code @Setup}; the measured methods allocate
 * no buffers (the ones that go through the autograd {@code Tape} create only small view objects; its arena is
 * reused) and return their output so that nothing is dead code. Outputs that the kernels add into ({@code +=})
 * keep growing from call to call; values stay far from overflow for any run length JMH will reach.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class KernelBench {
    /** Seed of every benchmark's inputs. */
    static final long SEED = 42;

    private final SplittableRandom random = new SplittableRandom(SEED);
    private Compute compute;

    /** Fails the trial unless the Vector API kernels are in use (they are what these benchmarks measure). */
    @Setup(Level.Trial)
    public void requireVectorApi() {
        try (Parallel one = new Parallel(1)) {
            if (!new Gemm(one).vectorized()) {
                throw new IllegalStateException("scalar fallback: run with --add-modules jdk.incubator.vector");
            }
        }
    }

    @TearDown(Level.Trial)
    public void closeCompute() {
        if (compute != null) {
            compute.close();
            compute = null;
        }
    }

    /** A thread team of {@code threads}, closed after the trial. */
    Compute compute(int threads) {
        closeCompute();
        compute = new Compute(threads);
        return compute;
    }

    /** {@code n} floats uniform in [lo, hi) from this benchmark's seeded generator. */
    float[] uniform(int n, double lo, double hi) {
        return BenchSupport.uniform(random, n, lo, hi);
    }

    /** This benchmark's seeded generator (inputs are drawn from it in setup, in a fixed order). */
    SplittableRandom random() {
        return random;
    }

    /** {@code n} ints uniform in [0, bound). */
    int[] indices(int n, int bound) {
        return random.ints(n, 0, bound).toArray();
    }

    /** The sizes of a shape parameter such as {@code "2048:384"}. */
    static int[] dims(String spec) {
        return Arrays.stream(spec.split(":")).mapToInt(Integer::parseInt).toArray();
    }
}
