package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

class LargePageMemoryTest {
    @Test
    void largeCopiesStartOnAHugePageAndKeepTheirContentsWhenGathered() {
        long bytes = 5 * LargePageMemory.HUGE_PAGE + 12345;
        MemorySegment s = LargePageMemory.allocate(bytes);
        assertEquals(bytes, s.byteSize());
        if (System.getProperty("os.name", "").equals("Linux")) {
            assertEquals(0, s.address() % LargePageMemory.HUGE_PAGE, "a large mapping starts on a 2 MiB boundary");
        }
        for (long i = 0; i < bytes / 8; i++) {
            s.setAtIndex(ValueLayout.JAVA_LONG, i, i * 0x9E3779B97F4A7C15L);
        }
        LargePageMemory.collapse(s);
        for (long i = 0; i < bytes / 8; i++) {
            assertEquals(i * 0x9E3779B97F4A7C15L, s.getAtIndex(ValueLayout.JAVA_LONG, i), "long " + i);
        }
    }

    @Test
    void smallCopiesAreZeroedAndUsable() {
        MemorySegment s = LargePageMemory.allocate(10_000);
        assertEquals(10_000, s.byteSize());
        for (long i = 0; i < s.byteSize(); i++) {
            assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i));
        }
        s.set(ValueLayout.JAVA_BYTE, 9_999, (byte) 7);
        assertEquals(7, s.get(ValueLayout.JAVA_BYTE, 9_999));
    }
}
