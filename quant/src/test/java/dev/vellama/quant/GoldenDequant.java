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

    static String fileStem(GgmlType type) {
        return type.name().toLowerCase(Locale.ROOT);
    }

    static byte[] blocks(GgmlType type) {
        return read(dir().resolve(fileStem(type) + ".blocks"));
    }

    static float[] floats(GgmlType type) {
        byte[] raw = read(dir().resolve(fileStem(type) + ".f32"));
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

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
