package dev.vellama.runtime.reference;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Predicate;

import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;

/** Copies of a model file with one thing changed, for the tests of what loading refuses. */
final class GgufEdits {
    private GgufEdits() {}

    /** {@code in} written to {@code out} with metadata {@code key} set to {@code value}. */
    static Path withKey(Path in, Path out, String key, GgufValue value) throws IOException {
        return copy(in, out, key, value, t -> true);
    }

    /** {@code in} written to {@code out} without the tensor {@code name}. */
    static Path withoutTensor(Path in, Path out, String name) throws IOException {
        return copy(in, out, null, null, t -> !t.name().equals(name));
    }

    private static Path copy(Path in, Path out, String key, GgufValue value, Predicate<GgufTensor> keep) throws IOException {
        try (GgufFile f = GgufFile.open(in)) {
            GgufWriter w = new GgufWriter().putAll(f.metadata());
            if (key != null) {
                w.put(key, value);
            }
            for (GgufTensor t : f.tensors()) {
                if (keep.test(t)) {
                    w.addTensor(t.name(), t.type(), t.shape(), t.data());
                }
            }
            w.write(out);
        }
        return out;
    }
}
