package io.accrue.tensor;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel families' layout (STYLE 6, 7, 15): one sub-package per family with its contract in a package-info; the
 * Vector API only in the families' {@code Vector*} bodies and the species holder {@link Lanes}; no thread-local
 * scratch anywhere in the library.
 */
class KernelFamiliesTest {
    private static final Path MAIN = Path.of("src/main/java/io/accrue");
    private static final List<String> FAMILIES = List.of("gemm", "attention", "norm", "elementwise", "optimizer",
            "conv");

    @Test
    void everyFamilyHasItsPackageDocument() {
        for (String family : FAMILIES) {
            assertTrue(Files.isRegularFile(MAIN.resolve("tensor").resolve(family).resolve("package-info.java")),
                    "io.accrue.tensor." + family + " needs a package-info.java");
        }
    }

    @Test
    void vectorApiOnlyInTheFamiliesVectorBodies() throws IOException {
        List<String> outside = new ArrayList<>();
        for (Path p : sources()) {
            if (!Files.readString(p).contains("import jdk.incubator.vector.")) {
                continue;
            }
            Path rel = MAIN.relativize(p);
            String name = p.getFileName().toString();
            boolean body = rel.getNameCount() == 3 && rel.getName(0).toString().equals("tensor")
                    && FAMILIES.contains(rel.getName(1).toString()) && name.startsWith("Vector");
            if (!body && !rel.equals(Path.of("tensor", "Lanes.java"))) {
                outside.add(rel.toString());
            }
        }
        assertEquals(List.of(), outside);
    }

    @Test
    void noThreadLocalScratch() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path p : sources()) {
            if (Files.readString(p).contains("ThreadLocal")) {
                found.add(MAIN.relativize(p).toString());
            }
        }
        assertEquals(List.of(), found, "scratch belongs to a caller-held kernel instance, per thread part");
    }

    private static List<Path> sources() throws IOException {
        try (Stream<Path> paths = Files.walk(MAIN)) {
            List<Path> files = paths.filter(f -> f.toString().endsWith(".java")).toList();
            assertTrue(files.size() > 20, "scanned only " + files.size() + " files: wrong working directory?");
            return files;
        }
    }
}
