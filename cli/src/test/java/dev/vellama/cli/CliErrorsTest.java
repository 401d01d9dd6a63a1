package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CliErrorsTest {
    @Test
    void runningOutOfHeapOrDirectMemoryNamesTheOptionThatGivesMore() {
        assertEquals("out of memory; give the JVM more with VELLAMA_JAVA_OPTS=-Xmx...",
                CliErrors.describe(new OutOfMemoryError("Java heap space")));
        assertEquals("out of direct memory; give the JVM more with VELLAMA_JAVA_OPTS=-XX:MaxDirectMemorySize=...",
                CliErrors.describe(new OutOfMemoryError("Cannot reserve 1695792 bytes of direct buffer memory (allocated: 5618103072, limit: 5618794496)")));
    }
}
