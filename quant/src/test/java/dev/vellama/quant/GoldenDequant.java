package dev.vellama.quant;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

import dev.vellama.gguf.GgmlType;
import dev.vellama.testdata.TestData;

/** Reads the golden dequantization data: rows of llama.cpp blocks and the floats llama.cpp decoded them to. */
final class GoldenDequant {
    /** The shape every golden entry shares (see golden/dequant/index.json). */
    static final int ROWS = 8;
    static final int COLS = 768;

    private GoldenDequant() {}

    static Path dir() {
        return TestData.resolve("golden/dequant");
    }

    /**
     * Where a type's files are: the shared data's directory, or for MXFP4 (newer than the shared data) this module's
     * test resources, made by a llama.cpp of 2026-08 from the same F32 rows (see {@code mxfp4/README.md}).
     */
    static Path dir(GgmlType type) {
        if (type != GgmlType.MXFP4) {
            return dir();
        }
        try {
            return Path.of(GoldenDequant.class.getResource("/mxfp4/mxfp4.blocks").toURI()).getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static String fileStem(GgmlType type) {
        return type.name().toLowerCase(Locale.ROOT);
    }

    static byte[] blocks(GgmlType type) {
        return read(dir(type).resolve(fileStem(type) + ".blocks"));
    }

    static float[] floats(GgmlType type) {
        return littleEndianFloats(read(dir(type).resolve(fileStem(type) + ".f32")));
    }

    static float[] littleEndianFloats(byte[] raw) {
        float[] out = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** The F32 rows every quantized entry was made from. */
    static float[] sourceRows() {
        return floats(GgmlType.F32);
    }

    static WeightMatrix matrix(GgmlType type) {
        return new WeightMatrix("golden." + fileStem(type), type, MemorySegment.ofArray(blocks(type)), ROWS, COLS);
    }

    static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
