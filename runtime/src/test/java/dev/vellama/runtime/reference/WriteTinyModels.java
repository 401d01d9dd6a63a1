package dev.vellama.runtime.reference;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes tiny models to a directory, so that llama.cpp can compute the golden logits kept in
 * {@code golden/tiny-*.json} on the very files the tests write: {@code java -cp <test classpath>
 * dev.vellama.runtime.reference.WriteTinyModels DIR gptOss qwen3moe ...} (the names of {@link TinyModels}' specs).
 */
public final class WriteTinyModels {
    private WriteTinyModels() {}

    public static void main(String[] args) throws Exception {
        Path dir = Files.createDirectories(Path.of(args[0]));
        for (int i = 1; i < args.length; i++) {
            Method spec = TinyModels.class.getDeclaredMethod(args[i]);
            System.out.println(TinyModels.write((TinySpec) spec.invoke(null), dir));
        }
    }
}
