package io.accrue.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Two executor JVMs ({@code local-cluster[2,1,1024]}): the replicas' ring crosses process boundaries over TCP, and the
 * run ends with the bits of two replicas in one JVM ({@code local[2]}).
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
    void twoExecutorJvmsGiveTheBitsOfTwoLocalReplicas(@TempDir Path dir) throws IOException {
        Path spec = SparkTrainTest.spec(dir);
        float[] local = SparkTrainTest.spark(spec, dir, "local", 2);
        Map<String, String> conf = Map.of("spark.executor.extraClassPath", sparkHome(),
                "spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector",
                "spark.driver.host", "127.0.0.1", "spark.ui.enabled", "false");
        conf.forEach(System::setProperty);
        try {
            assertArrayEquals(local, SparkTrainTest.spark(spec, dir, "cluster", 2, "--master",
                    "local-cluster[2,1,1024]"), "2 executor JVMs must give the bits of 2 local replicas");
        } finally {
            conf.keySet().forEach(System::clearProperty);
        }
    }
}
