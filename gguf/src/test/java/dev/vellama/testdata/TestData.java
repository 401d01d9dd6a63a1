package dev.vellama.testdata;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the shared reference data ({@code -Dvellama.testdata}, default {@code ../shared}). Without it a test is
 * skipped with a message, except under {@code CI=true}, where missing data is a failure.
 */
public final class TestData {
    private TestData() {}

    public static Path root() {
        Path root = Path.of(System.getProperty("vellama.testdata", "../shared")).toAbsolutePath().normalize();
        if (!Files.isDirectory(root.resolve("models"))) {
            String message = "reference data not found at " + root + " (set -Dvellama.testdata=DIR)";
            if ("true".equals(System.getenv("CI"))) {
                Assertions.fail(message);
            }
            Assumptions.abort(message);
        }
        return root;
    }

    public static Path model(String fileName) {
        Path p = root().resolve("models").resolve(fileName);
        Assertions.assertTrue(Files.isRegularFile(p), "missing reference model " + p);
        return p;
    }

    public static Path resolve(String relative) {
        return root().resolve(relative);
    }

    /**
     * Follows a link left as a small text file holding a relative path (how the data set stores symbolic links
     * where the copy lost them); any other path is returned as it is.
     */
    public static Path followLink(Path p) {
        try {
            if (Files.isRegularFile(p) && Files.size(p) < 512) {
                String target = Files.readString(p).trim();
                Path resolved = p.resolveSibling(target).normalize();
                if (!target.isEmpty() && !target.startsWith("GGUF") && Files.isRegularFile(resolved)) {
                    return resolved;
                }
            }
        } catch (java.io.IOException | java.nio.file.InvalidPathException e) {
            return p;
        }
        return p;
    }

    /** Every GGUF under models/ and tokenizer-tests/ (links followed, each file once), sorted by name. */
    public static Stream<Path> allGgufFiles() {
        Path root = root();
        try (Stream<Path> a = Files.list(root.resolve("models")); Stream<Path> b = Files.list(root.resolve("tokenizer-tests"))) {
            return Stream.concat(a.toList().stream(), b.toList().stream())
                    .filter(p -> p.getFileName().toString().endsWith(".gguf"))
                    .map(TestData::followLink)
                    .distinct()
                    .sorted();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
