package dev.vellama.runtime.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;

/** Loads the shared vocabularies once per test run (the big BPE ones take a moment to parse). */
final class VocabFiles {
    private static final ConcurrentHashMap<Path, Tokenizer> LOADED = new ConcurrentHashMap<>();

    private VocabFiles() {}

    /** A tokenizer from {@code tokenizer-tests/ggml-vocab-<name>.gguf}. */
    static Tokenizer vocab(String name) {
        return load(TestData.resolve("tokenizer-tests/ggml-vocab-" + name + ".gguf"));
    }

    /** A tokenizer from {@code models/<file>}. */
    static Tokenizer model(String file) {
        return load(TestData.model(file));
    }

    static Tokenizer load(Path path) {
        return LOADED.computeIfAbsent(resolveLink(path), p -> {
            try (GgufFile file = GgufFile.open(p)) {
                return Tokenizer.fromGguf(file.metadata());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /**
     * Some vocabularies are symbolic links to a model; where the checkout stored the link as a small text file
     * holding the target path, follow that path.
     */
    static Path resolveLink(Path path) {
        try {
            if (Files.size(path) < 1024) {
                String target = Files.readString(path).trim();
                return path.resolveSibling(target).normalize();
            }
            return path;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One test vector: a text and the ids llama.cpp gives for it without specials. */
    record Case(int index, String text, int[] ids) {}

    /** The {@code .inp}/{@code .out} pair next to a vocabulary: texts end with {@code "\n__ggml_vocab_test__\n"}. */
    static List<Case> cases(String name) {
        Path inp = TestData.resolve("tokenizer-tests/ggml-vocab-" + name + ".gguf.inp");
        Path out = TestData.resolve("tokenizer-tests/ggml-vocab-" + name + ".gguf.out");
        try {
            String all = Files.readString(inp);
            String separator = "\n__ggml_vocab_test__\n";
            List<String> texts = new ArrayList<>();
            int from = 0;
            while (from < all.length()) {
                int end = all.indexOf(separator, from);
                if (end < 0) {
                    throw new IllegalStateException(inp + ": text after the last separator");
                }
                texts.add(all.substring(from, end));
                from = end + separator.length();
            }
            List<String> lines = Files.readAllLines(out);
            if (lines.size() != texts.size()) {
                throw new IllegalStateException(inp + " has " + texts.size() + " texts but " + out + " has "
                        + lines.size() + " lines");
            }
            List<Case> cases = new ArrayList<>();
            for (int i = 0; i < texts.size(); i++) {
                String line = lines.get(i).trim();
                int[] ids = line.isEmpty() ? new int[0]
                        : Arrays.stream(line.split(" +")).mapToInt(Integer::parseInt).toArray();
                cases.add(new Case(i, texts.get(i), ids));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
