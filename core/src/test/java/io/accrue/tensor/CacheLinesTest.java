package io.accrue.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.junit.jupiter.api.Test;

class CacheLinesTest {
    @Test
    void offsetPutsTheFirstElementOnALineForEachHeaderLayout() {
        assertEquals(13, CacheLines.offsetFor(true, true));  // 12-byte header
        assertEquals(12, CacheLines.offsetFor(false, true)); // 16
        assertEquals(11, CacheLines.offsetFor(false, false)); // 20
    }

    /**
     * The header size {@link CacheLines} infers from the VM's flags is the one the VM reports, and under the test
     * JVM's {@code -XX:ObjectAlignmentInBytes=64} (as the launcher runs) the offset is in use.
     */
    @Test
    @SuppressWarnings("removal") // Unsafe only to read the header size the VM reports, which nothing else tells
    void inferredHeaderIsTheVmsAndAlignmentIsOn() throws ReflectiveOperationException {
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        assertEquals("64", vm.getVMOption("ObjectAlignmentInBytes").getValue(),
                "the tests run with -XX:ObjectAlignmentInBytes=64, as ./accrue does (pom.xml argLine)");
        Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        int header = ((sun.misc.Unsafe) f.get(null)).arrayBaseOffset(float[].class);
        assertEquals(0, (header + Float.BYTES * CacheLines.FLOAT_OFFSET) % CacheLines.BYTES,
                "header " + header + " bytes, offset " + CacheLines.FLOAT_OFFSET + " floats");
    }
}
