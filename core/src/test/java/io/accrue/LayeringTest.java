package io.accrue;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packages depend only on packages below them in LAYOUT.md's data-flow order. A sub-package belongs to the layer of
 * its first element: the kernel families {@code io.accrue.tensor.gemm}, {@code .attention}, {@code .norm},
 * {@code .elementwise} and {@code .optimizer} are the tensor layer.
 */
class LayeringTest {
    private static final List<String> ORDER = List.of("tensor", "autograd", "nn", "models", "optim", "data", "train", "run");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?io\\.accrue\\.(\\w+)\\.", Pattern.MULTILINE);

    @Test
    void noImportPointsUpward() throws IOException {
        Path root = Path.of("src/main/java/io/accrue");
        List<String> violations = new ArrayList<>();
        int files = 0;
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.filter(f -> f.toString().endsWith(".java")).toList()) {
                files++;
                String pkg = root.relativize(p).getName(0).toString();
                int level = ORDER.indexOf(pkg);
                assertTrue(level >= 0, "package " + pkg + " is not listed in LAYOUT.md's order");
                Matcher m = IMPORT.matcher(Files.readString(p));
                while (m.find()) {
                    int target = ORDER.indexOf(m.group(1));
                    if (target > level) {
                        violations.add(p + " imports io.accrue." + m.group(1));
                    }
                }
            }
        }
        assertTrue(files > 20, "scanned only " + files + " files: wrong working directory?");
        assertEquals(List.of(), violations);
    }

    @Test
    void layoutDocumentListsThePackagesInOrder() throws IOException {
        String layout = Files.readString(Path.of("../LAYOUT.md"));
        int last = -1;
        for (String pkg : ORDER) {
            int at = layout.indexOf("io.accrue." + pkg + "`");
            assertTrue(at > last, "LAYOUT.md must list io.accrue." + pkg + " after the packages before it");
            last = at;
        }
    }
}
