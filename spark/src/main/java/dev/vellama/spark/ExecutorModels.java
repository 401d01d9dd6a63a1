package dev.vellama.spark;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

import dev.vellama.runtime.Model;

/**
 * The models an executor JVM has loaded, by file: loaded by the first task that needs one and kept for every later
 * partition and task in the same JVM (memory-mapped, so the file's pages are shared by the tasks' sessions). They
 * live as long as the executor.
 */
final class ExecutorModels {
    private static final ConcurrentHashMap<String, Model> LOADED = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    static Model get(String file) {
        return LOADED.computeIfAbsent(file, f -> {
            try {
                return Model.load(Path.of(f));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot load the model " + f + " on this executor: " + e.getMessage(), e);
            }
        });
    }
}
