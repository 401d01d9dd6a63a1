package dev.vellama.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** Hand-forged bad headers: each must give a GgufFormatException that says what is wrong and where. */
class GgufHostileInputTest {

    /** Builds a header by hand, little-endian. */
    private static final class Forge {
        final ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        Forge header(int version, long tensors, long kvs) {
            b.put("GGUF".getBytes(StandardCharsets.US_ASCII)).putInt(version).putLong(tensors).putLong(kvs);
            return this;
        }

        Forge str(String s) {
            byte[] x = s.getBytes(StandardCharsets.UTF_8);
            b.putLong(x.length).put(x);
            return this;
        }

        Forge u32(int v) { b.putInt(v); return this; }
        Forge u64(long v) { b.putLong(v); return this; }

        Forge kvU32(String key, int v) { return str(key).u32(GgufValueType.UINT32.id()).u32(v); }

        Forge tensor(String name, long[] dims, GgmlType type, long offset) {
            str(name).u32(dims.length);
            for (long d : dims) {
                u64(d);
            }
            return u32(type.id()).u64(offset);
        }

        Forge padTo(int alignment) {
            while (b.position() % alignment != 0) {
                b.put((byte) 0);
            }
            return this;
        }

        Forge zeros(int n) { b.put(new byte[n]); return this; }

        MemorySegment bytes() {
            byte[] out = new byte[b.position()];
            b.flip().get(out);
            return MemorySegment.ofArray(out);
        }
    }

    private static GgufFormatException fails(Forge f, String expectedText) {
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.parse(f.bytes()));
        assertTrue(e.getMessage().contains(expectedText), "message was: " + e.getMessage());
        return e;
    }

    @Test
    void badMagic() {
        Forge f = new Forge();
        f.b.put("GGML".getBytes(StandardCharsets.US_ASCII)).putInt(3).putLong(0).putLong(0);
        assertEquals(0, fails(f, "bad magic").offset());
    }

    @Test
    void versionsOtherThanTwoAndThree() {
        fails(new Forge().header(1, 0, 0), "version 1 is no longer supported");
        fails(new Forge().header(4, 0, 0), "unsupported GGUF version 4");
        fails(new Forge().header(Integer.reverseBytes(3), 0, 0), "big-endian");
        GgufFile ok = assertDoesNotThrow(new Forge().header(2, 0, 0));
        assertEquals(2, ok.version());
    }

    private static GgufFile assertDoesNotThrow(Forge f) {
        try {
            return GgufFile.parse(f.bytes());
        } catch (GgufFormatException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void countsLargerThanTheFile() {
        assertEquals(8, fails(new Forge().header(3, 1L << 40, 0), "tensor count").offset());
        fails(new Forge().header(3, -1, 0), "tensor count");
        fails(new Forge().header(3, 0, Long.MAX_VALUE), "metadata count");
    }

    @Test
    void lengthsLargerThanTheFile() {
        Forge f = new Forge().header(3, 0, 1);
        f.u64(Long.MAX_VALUE).zeros(16);
        fails(f, "string length");
        f = new Forge().header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.INT32.id()).u64(1L << 40).zeros(16);
        fails(f, "claims 1099511627776 elements");
        f = new Forge().header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id()).u64(3).str("a");
        fails(f, "claims 3 elements");
        // a string array's element whose length runs past the end is named by its index
        f = new Forge().header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id()).u64(2).str("a")
                .u64(1000).zeros(16);
        fails(f, "string length 1000 of element 1 of 'k' runs past the end");
        f = new Forge().header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.STRING.id()).u64(2).str("a")
                .u64(-5).zeros(16);
        fails(f, "of element 1 of 'k' runs past the end");
    }

    @Test
    void badTypes() {
        fails(new Forge().header(3, 0, 1).str("k").u32(13).u32(0), "unknown metadata value type of 'k' 13");
        fails(new Forge().header(3, 0, 1).str("k").u32(GgufValueType.ARRAY.id()).u32(GgufValueType.ARRAY.id()).u64(0).zeros(8), "array of arrays");
        Forge f = new Forge().header(3, 1, 0);
        f.str("t").u32(1).u64(32).u32(4).u64(0).padTo(32).zeros(64);
        fails(f, "unknown type id 4");
    }

    @Test
    void duplicates() {
        fails(new Forge().header(3, 0, 2).kvU32("a", 1).kvU32("a", 2), "duplicate metadata key 'a'");
        Forge f = new Forge().header(3, 2, 0).tensor("w", new long[] {4}, GgmlType.F32, 0).tensor("w", new long[] {4}, GgmlType.F32, 32);
        f.padTo(32).zeros(64);
        fails(f, "duplicate tensor name 'w'");
    }

    @Test
    void badShapes() {
        Forge f = new Forge().header(3, 1, 0).str("w").u32(5).u64(1).u64(1).u64(1).u64(1).u64(1).u32(0).u64(0).padTo(32).zeros(4);
        fails(f, "5 dimensions");
        f = new Forge().header(3, 1, 0).tensor("w", new long[] {-4}, GgmlType.F32, 0).padTo(32).zeros(16);
        fails(f, "negative dimension");
        f = new Forge().header(3, 1, 0).tensor("w", new long[] {1L << 40, 1L << 40}, GgmlType.F32, 0).padTo(32).zeros(16);
        fails(f, "more elements");
        f = new Forge().header(3, 1, 0).tensor("w", new long[] {33}, GgmlType.Q4_0, 0).padTo(32).zeros(64);
        fails(f, "not a multiple of Q4_0's block size 32");
        f = new Forge().header(3, 1, 0).tensor("w", new long[] {(Long.MAX_VALUE / 32) * 32, 1}, GgmlType.Q8_0, 0).padTo(32).zeros(16);
        fails(f, "overflows");
    }

    @Test
    void badOffsets() {
        Forge f = new Forge().header(3, 1, 0).tensor("w", new long[] {4}, GgmlType.F32, 3).padTo(32).zeros(64);
        fails(f, "not a multiple of the alignment");
        f = new Forge().header(3, 1, 0).tensor("w", new long[] {64}, GgmlType.F32, 0).padTo(32).zeros(16);
        fails(f, "beyond the end of the file");
        f = new Forge().header(3, 2, 0).tensor("a", new long[] {16}, GgmlType.F32, 0).tensor("b", new long[] {16}, GgmlType.F32, 32).padTo(32).zeros(128);
        fails(f, "overlaps");
        f = new Forge().header(3, 1, 0).tensor("w", new long[] {4}, GgmlType.F32, (Long.MAX_VALUE / 32) * 32).padTo(32).zeros(16);
        fails(f, "overflows");
    }

    @Test
    void badAlignment() {
        Forge f = new Forge().header(3, 0, 1).kvU32("general.alignment", 24);
        fails(f, "not a power of two");
        f = new Forge().header(3, 0, 1).str("general.alignment").u32(GgufValueType.INT32.id()).u32(32);
        fails(f, "must be UINT32");
    }

    @Test
    void longTensorName() {
        Forge f = new Forge().header(3, 1, 0).tensor("x".repeat(64), new long[] {4}, GgmlType.F32, 0).padTo(32).zeros(16);
        fails(f, "longer than 63 bytes");
    }

    /** Every prefix of a small valid file is rejected cleanly, naming the place it ends. */
    @Test
    void everyTruncationIsReported() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                .put("list", GgufValue.array(GgufValueType.STRING, new String[] {"a", "bc"}))
                .put("f", GgufValue.float32(1f))
                .addTensor("w", GgmlType.Q8_0, new long[] {32, 2}, new byte[68])
                .writeTo(out);
        byte[] full = out.toByteArray();
        long needed = GgufFile.parse(MemorySegment.ofArray(full)).dataOffset() + 68; // the rest is end padding
        for (int n = 0; n < needed; n++) {
            MemorySegment prefix = MemorySegment.ofArray(full).asSlice(0, n);
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufFile.parse(prefix), "prefix of " + n);
            assertTrue(e.offset() <= n, "offset " + e.offset() + " within the " + n + " bytes");
        }
    }
}
