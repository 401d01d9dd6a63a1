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

    /** Something more to write: keys to set and tensors to add, from the file being copied. */
    @FunctionalInterface
    interface Addition {
        void to(GgufWriter w, GgufFile from) throws IOException;
    }

    /** {@code in} written to {@code out} with whatever {@code addition} puts and adds after its own keys and tensors. */
    static Path with(Path in, Path out, Addition addition) throws IOException {
        return copy(in, out, t -> true, addition);
    }

    private static Path copy(Path in, Path out, String key, GgufValue value, Predicate<GgufTensor> keep) throws IOException {
        return copy(in, out, keep, (w, f) -> {
            if (key != null) {
                w.put(key, value);
            }
        });
    }

    private static Path copy(Path in, Path out, Predicate<GgufTensor> keep, Addition addition) throws IOException {
        try (GgufFile f = GgufFile.open(in)) {
            GgufWriter w = new GgufWriter().putAll(f.metadata());
            for (GgufTensor t : f.tensors()) {
                if (keep.test(t)) {
                    w.addTensor(t.name(), t.type(), t.shape(), t.data());
                }
            }
            addition.to(w, f);
            w.write(out);
        }
        return out;
    }
}
