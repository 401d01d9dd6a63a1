package dev.vellama.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

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
    void settleGathersPendingCopiesWithoutWaitingForQuietAndKeepsThem() {
        long bytes = 3 * LargePageMemory.HUGE_PAGE;
        MemorySegment s = LargePageMemory.allocate(bytes);
        for (long i = 0; i < bytes / 8; i++) {
            s.setAtIndex(ValueLayout.JAVA_LONG, i, ~i);
        }
        LargePageMemory.collapseLater(s);
        // settle() skips the quiet second: it returns once the copy is gathered, well within the timeout
        assertTimeoutPreemptively(Duration.ofSeconds(30), Kernels::settle);
        for (long i = 0; i < bytes / 8; i++) {
            assertEquals(~i, s.getAtIndex(ValueLayout.JAVA_LONG, i), "long " + i);
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
