package dev.vellama.runtime.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.model.ModelWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A context shift turns each cached key by the distance it moves, except in SmolLM3's layers without RoPE, whose
 * keys carry no position: there the shifted cache must hold exactly the keys it held, only moved.
 */
class NoRopeShiftTest {
    @TempDir
    Path dir;

    @Test
    void aShiftMovesTheKeysOfLayersWithoutRopeUnturned() throws IOException {
        Path file = TinyModels.write(TinyModels.smollm3(), dir);
        try (Model model = Model.load(file); GgufFile gguf = GgufFile.open(file); Kernels k = Kernels.create(1)) {
            ModelConfig c = model.config();
            ModelWeights w = new ModelWeights(gguf, c);
            KvCache cache = KvCache.of(c, 0, 32, GgmlType.F32, GgmlType.F32);
            ForwardPass pass = new ForwardPass(c, w, k, cache, 32);
            int[] tokens = ArchitectureParityTest.tokens();
            pass.forwardLast(tokens, 0, 24, 0);
            int keep = 4;
            int discard = 10;
            float[] noRopeBefore = cells(cache, 3, keep + discard, 24);
            float[] ropeBefore = cells(cache, 0, keep + discard, 24);
            pass.shiftCache(keep, discard, 24);
            assertArrayEquals(noRopeBefore, cells(cache, 3, keep, 24 - discard), "layer 3 has no RoPE: moved, not turned");
            assertFalse(Arrays.equals(ropeBefore, cells(cache, 0, keep, 24 - discard)), "layer 0's keys are turned");
        }
    }

    /** Keys then values of positions [from, to) of a layer, as the cache streams them. */
    private static float[] cells(KvCache cache, int layer, int from, int to) throws IOException {
        float[][] out = {new float[0]};
        cache.transfer(layer, from, to, 0, new KvCache.CellStream() {
            @Override
            public void halves(short[] a, int off, int n) {
                throw new AssertionError("an F32 cache streams floats");
            }

            @Override
            public void floats(float[] a, int off, int n) {
                float[] grown = Arrays.copyOf(out[0], out[0].length + n);
                System.arraycopy(a, off, grown, out[0].length, n);
                out[0] = grown;
            }

            @Override
            public void bytes(byte[] a, int off, int n) {
                throw new AssertionError("an F32 cache streams floats");
            }
        });
        return out[0];
    }
}
