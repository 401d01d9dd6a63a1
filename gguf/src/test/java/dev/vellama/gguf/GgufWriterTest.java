package dev.vellama.gguf;

import dev.vellama.testdata.TestData;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class GgufWriterTest {
    @TempDir
    Path tmp;

    static Stream<Path> sharedFiles() {
        return TestData.allGgufFiles();
    }

    /** Rewriting a llama.cpp file from what the reader saw must give the same bytes: same layout, types, order. */
    @ParameterizedTest
    @MethodSource("sharedFiles")
    void rewritesLlamaCppFilesByteForByte(Path path) throws IOException {
        Path copy = tmp.resolve("copy.gguf");
        try (GgufFile f = GgufFile.open(path)) {
            GgufWriter w = new GgufWriter().putAll(f.metadata());
            for (GgufTensor t : f.tensors()) {
                w.addTensor(t.name(), t.type(), t.shape(), t.data());
            }
            w.write(copy);
        }
        long mismatch = Files.mismatch(path, copy);
        if (mismatch != -1 && Files.size(copy) > Files.size(path) && mismatch == Files.size(path)) {
            // a vocabulary-only file: llama.cpp does not pad the end when no tensor data follows
            try (GgufFile f = GgufFile.open(path)) {
                assertTrue(f.tensors().isEmpty(), "only tensor-less files may differ, and only in end padding");
            }
            return;
        }
        assertEquals(-1, mismatch, "first differing byte");
    }

    @Test
    void everyValueTypeRoundTrips() throws IOException {
        Path p = tmp.resolve("all-types.gguf");
        byte[] q8 = new byte[2 * 34];
        for (int i = 0; i < q8.length; i++) {
            q8[i] = (byte) (i * 7);
        }
        float[] f32 = {1.5f, -2f, 3.25f, Float.NaN};
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.string("test"))
                .put("general.alignment", GgufValue.uint32(64))
                .put("u8", GgufValue.uint8(250)).put("i8", GgufValue.int8(-5))
                .put("u16", GgufValue.uint16(65000)).put("i16", GgufValue.int16(-30000))
                .put("u32", GgufValue.uint32(4_000_000_000L)).put("i32", GgufValue.int32(-7))
                .put("f32", GgufValue.float32(0.1f)).put("bool", GgufValue.bool(true))
                .put("str", GgufValue.string("héllo\nwörld ✓"))
                .put("u64", GgufValue.uint64(-1L)).put("i64", GgufValue.int64(Long.MIN_VALUE))
                .put("f64", GgufValue.float64(Math.PI))
                .put("arr.str", GgufValue.array(GgufValueType.STRING, new String[] {"a", "", "ünï"}))
                .put("arr.i32", GgufValue.array(GgufValueType.INT32, new int[] {1, -2, 3}))
                .put("arr.u8", GgufValue.array(GgufValueType.UINT8, new byte[] {(byte) 255, 0}))
                .put("arr.f32", GgufValue.array(GgufValueType.FLOAT32, new float[] {0.5f}))
                .put("arr.bool", GgufValue.array(GgufValueType.BOOL, new boolean[] {true, false}))
                .put("arr.empty", GgufValue.array(GgufValueType.INT64, new long[0]))
                .addTensor("q8", GgmlType.Q8_0, new long[] {32, 2}, q8)
                .addTensor("f32", GgmlType.F32, new long[] {4}, floats(f32));
        w.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            GgufMetadata m = f.metadata();
            assertEquals(64, f.alignment());
            assertEquals(250, m.getInt("u8"));
            assertEquals(-5, m.getInt("i8"));
            assertEquals(65000, m.getInt("u16"));
            assertEquals(-30000, m.getInt("i16"));
            assertEquals(4_000_000_000L, m.getLong("u32"));
            assertThrows(GgufMetadataException.class, () -> m.getInt("u32"), "out of int range");
            assertEquals(-7, m.getInt("i32"));
            assertEquals(0.1f, m.getFloat("f32"));
            assertTrue(m.getBool("bool"));
            assertEquals("héllo\nwörld ✓", m.getString("str"));
            assertThrows(GgufMetadataException.class, () -> m.getLong("u64"), "too large for a signed long");
            assertEquals("18446744073709551615", m.get("u64").format(1));
            assertEquals(Long.MIN_VALUE, m.getLong("i64"));
            assertEquals(Math.PI, m.getDouble("f64"));
            assertArrayEquals(new String[] {"a", "", "ünï"}, m.getStringArray("arr.str"));
            assertArrayEquals(new int[] {1, -2, 3}, m.getIntArray("arr.i32"));
            assertArrayEquals(new int[] {255, 0}, m.getIntArray("arr.u8"));
            assertArrayEquals(new float[] {0.5f}, m.getFloatArray("arr.f32"));
            assertEquals(GgufValueType.BOOL, m.get("arr.bool").elementType());
            assertEquals(0, m.get("arr.empty").length());
            assertEquals(20, m.size());
            GgufTensor t = f.tensor("q8");
            assertEquals(0, (t.fileOffset() - f.dataOffset()) % 64);
            assertArrayEquals(q8, t.data().toArray(ValueLayout.JAVA_BYTE));
            GgufTensor ft = f.tensor("f32");
            assertEquals(0, ft.fileOffset() % 64);
            assertArrayEquals(floats(f32), ft.data().toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void refusesInconsistentTensors() {
        GgufWriter w = new GgufWriter();
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.Q4_0, new long[] {32}, new byte[17]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.Q4_0, new long[] {31}, new byte[18]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.Q4_0, new long[] {16, 2}, new byte[18]),
                "rows must be whole blocks even when the element count is");
        w.addTensor("x", GgmlType.F32, new long[] {1}, new byte[4]);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x", GgmlType.F32, new long[] {1}, new byte[4]));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.array(GgufValueType.INT32, new long[1]));
    }

    /** A model split into parts opens through its first part as one file. */
    @Test
    void splitModelsOpenAsOne() throws IOException {
        byte[] a = floats(new float[] {1, 2, 3, 4});
        byte[] b = floats(new float[] {5, 6});
        new GgufWriter()
                .put("general.architecture", GgufValue.string("test"))
                .put("split.no", GgufValue.uint16(0)).put("split.count", GgufValue.uint16(2))
                .put("split.tensors.count", GgufValue.int32(2))
                .addTensor("a", GgmlType.F32, new long[] {4}, a)
                .write(tmp.resolve("m-00001-of-00002.gguf"));
        new GgufWriter()
                .put("split.no", GgufValue.uint16(1)).put("split.count", GgufValue.uint16(2))
                .put("split.tensors.count", GgufValue.int32(2))
                .addTensor("b", GgmlType.F32, new long[] {2}, b)
                .write(tmp.resolve("m-00002-of-00002.gguf"));
        try (GgufFile f = GgufFile.open(tmp.resolve("m-00001-of-00002.gguf"))) {
            assertEquals(2, f.parts().size());
            assertEquals("test", f.architecture());
            assertArrayEquals(b, f.tensor("b").data().toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(a, f.tensor("a").data().toArray(ValueLayout.JAVA_BYTE));
        }
        Files.delete(tmp.resolve("m-00002-of-00002.gguf"));
        var e = assertThrows(java.nio.file.NoSuchFileException.class, () -> GgufFile.open(tmp.resolve("m-00001-of-00002.gguf")));
        assertTrue(e.getMessage().contains("m-00002-of-00002.gguf"));
    }

    /** Tensors beyond 2 GiB and 2^31 elements are addressed with long offsets (a sparse file, nothing written). */
    @Test
    void hugeTensorsUseLongOffsets() throws IOException {
        long elements = (1L << 31) + 64;
        Path p = tmp.resolve("huge.gguf");
        // header written for a 1-element tensor, then patched to the huge shape: the writer would copy all data
        byte[] one = new byte[1];
        new GgufWriter().put("general.architecture", GgufValue.string("test"))
                .addTensor("big", GgmlType.I8, new long[] {1}, one).write(p);
        long dataOffset;
        try (GgufFile f = GgufFile.open(p)) {
            dataOffset = f.dataOffset();
        }
        byte[] bytes = Files.readAllBytes(p);
        MemorySegment header = MemorySegment.ofArray(bytes);
        long dimAt = dataOffset;
        // find the dimension value 1 written right after the tensor name "big" and its n_dims
        for (int i = 0; i + 3 < bytes.length; i++) {
            if (bytes[i] == 'b' && bytes[i + 1] == 'i' && bytes[i + 2] == 'g') {
                dimAt = i + 3 + 4;
                break;
            }
        }
        header.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), dimAt, elements);
        try (var raf = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            raf.write(bytes, 0, (int) dataOffset);
            raf.setLength(dataOffset + elements);
            raf.seek(dataOffset + elements - 1);
            raf.write(42);
        }
        try (GgufFile f = GgufFile.open(p)) {
            GgufTensor t = f.tensor("big");
            assertEquals(elements, t.elementCount());
            assertEquals(elements, t.byteSize());
            assertTrue(f.fileSize() > Integer.MAX_VALUE);
            assertEquals(42, t.data().get(ValueLayout.JAVA_BYTE, elements - 1));
        }
    }

    static byte[] floats(float[] v) {
        MemorySegment s = MemorySegment.ofArray(new byte[v.length * 4]);
        for (int i = 0; i < v.length; i++) {
            s.set(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 4L * i, v[i]);
        }
        return s.toArray(ValueLayout.JAVA_BYTE);
    }
}
