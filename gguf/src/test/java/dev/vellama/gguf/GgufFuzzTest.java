package dev.vellama.gguf;

import dev.vellama.testdata.TestData;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A seeded mutation fuzzer over the shared models' headers: truncations, byte flips and forged 32/64-bit values
 * (the widths of GGUF's counts, lengths, type ids and offsets). The only acceptable failure is a
 * {@link GgufFormatException}; a file that still parses must give tensors that lie inside it.
 * {@code -Dvellama.fuzz.scale=N} multiplies the iteration counts for a longer run.
 */
class GgufFuzzTest {
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long[] INTERESTING = {0, 1, -1, 2, 3, 4, 12, 13, 31, 32, 63, 64, 255, 256, 0x7F, 0x80, 0xFFFF,
            Integer.MAX_VALUE, Integer.MIN_VALUE, 0xFFFF_FFFFL, 1L << 31, 1L << 32, 1L << 40, Long.MAX_VALUE, Long.MIN_VALUE};

    @ParameterizedTest(name = "{0}, {1} mutations")
    @CsvSource({
            "models/stories-llama2-q8_0.gguf, 3000",
            "tokenizer-tests/ggml-vocab-bert-bge.gguf, 800",
            "models/tiny-qwen3-q8_0.gguf, 100",
    })
    void mutatedHeadersFailCleanly(String file, int iterations) throws IOException {
        int scale = Integer.getInteger("vellama.fuzz.scale", 1);
        Path path = TestData.followLink(TestData.resolve(file));
        byte[] original = java.nio.file.Files.readAllBytes(path);
        long headerEnd;
        try (GgufFile f = GgufFile.open(path)) {
            headerEnd = Math.min(f.dataOffset(), original.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment work = arena.allocate(original.length);
            MemorySegment pristine = MemorySegment.ofArray(original);
            MemorySegment.copy(pristine, 0, work, 0, original.length);
            SplittableRandom rnd = new SplittableRandom(file.hashCode());
            for (int i = 0; i < iterations * scale; i++) {
                long seed = rnd.nextLong();
                SplittableRandom r = new SplittableRandom(seed);
                // mutate a window, parse, then restore just that window
                long at = r.nextBoolean() ? r.nextLong(Math.min(4096, headerEnd)) : r.nextLong(headerEnd);
                long window = Math.min(8, original.length - at);
                MemorySegment.copy(pristine, at, work, at, window);
                long length = original.length;
                String what;
                switch (r.nextInt(4)) {
                    case 0 -> {
                        length = r.nextLong(headerEnd + 1);
                        what = "truncated to " + length;
                    }
                    case 1 -> {
                        byte b = (byte) (work.get(ValueLayout.JAVA_BYTE, at) ^ (1 << r.nextInt(8)));
                        work.set(ValueLayout.JAVA_BYTE, at, b);
                        what = "bit flip at " + at;
                    }
                    case 2 -> {
                        long v = INTERESTING[r.nextInt(INTERESTING.length)];
                        if (window >= 8) {
                            work.set(I64, at, v);
                        }
                        what = "u64 " + v + " at " + at;
                    }
                    default -> {
                        long v = INTERESTING[r.nextInt(INTERESTING.length)];
                        if (window >= 4) {
                            work.set(I32, at, (int) v);
                        }
                        what = "u32 " + (int) v + " at " + at;
                    }
                }
                try {
                    GgufFile parsed = GgufFile.parse(work.asSlice(0, length));
                    for (GgufTensor t : parsed.tensors()) {
                        if (t.fileOffset() + t.byteSize() > length) {
                            fail(file + ", " + what + ": tensor " + t.name() + " outside the file");
                        }
                    }
                } catch (GgufFormatException expected) {
                    // the one acceptable failure
                } catch (Throwable t) {
                    throw new AssertionError(file + ", mutation seed " + seed + " (" + what + "): " + t, t);
                }
                MemorySegment.copy(pristine, at, work, at, window);
            }
        }
    }
}
