package io.accrue.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ArenaTest {

    @Test
    void highWaterMarkIsTheMostFloatsInUseAtOnce() {
        Arena arena = new Arena(1000);
        arena.allocate(10, 10);
        arena.allocate(50);
        assertEquals(150, arena.usedFloats());
        arena.reset();
        arena.allocate(20);
        assertEquals(20, arena.usedFloats());
        assertEquals(150, arena.highWaterFloats());
    }

    @Test
    void laterMicroBatchesOfTheSameShapeReuseStorage() {
        Arena arena = new Arena();
        Tensor first = arena.allocate(3000, 1000);
        Tensor second = arena.allocate(500);
        long capacity = arena.capacityFloats();
        for (int i = 0; i < 3; i++) {
            arena.reset();
            assertSame(first.data(), arena.allocate(3000, 1000).data());
            assertSame(second.data(), arena.allocate(500).data());
        }
        assertEquals(capacity, arena.capacityFloats(), "no growth after the first micro-batch");
    }

    @Test
    void viewsNeverStraddleChunks() {
        Arena arena = new Arena(100);
        Tensor a = arena.allocate(60);
        Tensor b = arena.allocate(60);
        assertNotSame(a.data(), b.data());
        assertEquals(0, b.offset());
        assertTrue(arena.highWaterFloats() >= 120);
    }

    @Test
    void badSizesAreRejectedWithTheValue() {
        var e = assertThrows(IllegalArgumentException.class, () -> new Arena(-5));
        assertTrue(e.getMessage().contains("-5"), e.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> new Arena().allocate(3, 0));
        assertTrue(s.getMessage().contains("[3, 0]"), s.getMessage());
    }
}
