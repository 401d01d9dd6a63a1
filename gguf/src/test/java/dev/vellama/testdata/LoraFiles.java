package dev.vellama.testdata;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;

/** LoRA adapters in llama.cpp's GGUF form with random F32 pairs, for tests that need one for a shared model. */
public final class LoraFiles {
    private LoraFiles() {
    }

    /**
     * Writes an adapter for {@code weights} of {@code model}: for each a [in, rank] {@code lora_a} and a
     * [rank, out] {@code lora_b} of normal values times {@code spread}.
     *
     * @return {@code out}
     */
    public static Path random(Path model, Path out, List<String> weights, int rank, float alpha, float spread, long seed)
            throws IOException {
        Random random = new Random(seed);
        try (GgufFile f = GgufFile.open(model)) {
            GgufWriter w = new GgufWriter().put("general.architecture", GgufValue.string(f.architecture()))
                    .put("general.type", GgufValue.string("adapter")).put("adapter.type", GgufValue.string("lora"))
                    .put("adapter.lora.alpha", GgufValue.float32(alpha));
            for (String name : weights) {
                GgufTensor t = f.tensor(name);
                w.addTensor(name + ".lora_a", GgmlType.F32, new long[] {t.columns(), rank},
                        values(random, (int) t.columns() * rank, spread));
                w.addTensor(name + ".lora_b", GgmlType.F32, new long[] {rank, t.rows()},
                        values(random, rank * (int) t.rows(), spread));
            }
            w.write(out);
        }
        return out;
    }

    private static byte[] values(Random random, int n, float spread) {
        MemorySegment s = MemorySegment.ofArray(new byte[n * 4]);
        ValueLayout.OfFloat le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            s.set(le, 4L * i, (float) random.nextGaussian() * spread);
        }
        return s.toArray(ValueLayout.JAVA_BYTE);
    }
}
