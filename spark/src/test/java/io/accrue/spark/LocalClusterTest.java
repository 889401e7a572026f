package io.accrue.spark;

import io.accrue.models.Gpt;
import io.accrue.models.TokenBatch;
import io.accrue.train.Trainer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two executor JVMs ({@code local-cluster[2,1,1024]}): the weights cross process boundaries by broadcast, the
 * sums come back as task results, and the step equals the {@code local[2]} one bit for bit.
 *
 * <p>Local-cluster mode launches executors from {@code $SPARK_HOME/jars}; there is no Spark distribution here, so
 * the test builds one: {@code target/spark-home} with a {@code RELEASE} marker and {@code jars/} linking every jar
 * of the test class path (surefire sets {@code SPARK_HOME} to it); the module's own classes reach the executors via
 * {@code spark.executor.extraClassPath}.
 */
class LocalClusterTest {

    static String sparkHome() throws IOException {
        String home = System.getenv("SPARK_HOME");
        if (home == null) {
            throw new IllegalStateException("SPARK_HOME is not set (the module's surefire configuration sets it)");
        }
        Path jars = Path.of(home, "jars");
        Files.createDirectories(jars);
        Files.writeString(Path.of(home, "RELEASE"), "Spark (jars of the accrue-spark test class path)\n");
        List<String> dirs = new ArrayList<>();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String e : cp.split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (Files.isDirectory(p)) {
                dirs.add(p.toAbsolutePath().toString());
            } else if (e.endsWith(".jar") && Files.isRegularFile(p)) {
                Path link = jars.resolve(p.getFileName());
                if (!Files.exists(link)) {
                    Files.createSymbolicLink(link, p.toAbsolutePath());
                }
            }
        }
        return String.join(File.pathSeparator, dirs);
    }

    @Test
    void twoExecutorJvmsGiveTheLocalBits() throws IOException {
        String classDirs = sparkHome();
        float[] cluster;
        try (JavaSparkContext spark = new JavaSparkContext(new SparkConf().setMaster("local-cluster[2,1,1024]")
                .setAppName("accrue-local-cluster").set("spark.ui.enabled", "false")
                .set("spark.driver.host", "127.0.0.1")
                .set("spark.executor.extraClassPath", classDirs)
                .set("spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector"))) {
            spark.setLogLevel("WARN");
            cluster = train(new SparkGradientSync(spark, SparkGradientSyncTest.RECIPE, 2, 4));
        }
        float[] local;
        try (JavaSparkContext spark = new JavaSparkContext(new SparkConf().setMaster("local[2]")
                .setAppName("accrue-local").set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1"))) {
            local = train(new SparkGradientSync(spark, SparkGradientSyncTest.RECIPE, 2, 4));
        } finally {
            Workers.closeAll();
        }
        assertArrayEquals(local, cluster, "2 executor JVMs must give the bits of 2 local workers");
    }

    static float[] train(SparkGradientSync sync) {
        Gpt model = (Gpt) (Object) SparkGradientSyncTest.RECIPE.model();
        try (Trainer<TokenBatch> t = new Trainer<>(SparkGradientSyncTest.config(), model,
                SparkGradientSyncTest.data(SparkGradientSyncTest.RECIPE))) {
            t.gradientSync(sync);
            assertEquals(SparkGradientSyncTest.STEPS, t.fit().steps());
            return model.parameters().values().clone();
        }
    }
}
