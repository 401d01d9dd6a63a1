package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.vellama.VellamaException;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufValueType;
import dev.vellama.gguf.GgufWriter;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every numeric hyper-parameter of the shared models set to values a hostile or broken file may carry (zero, one,
 * negative, odd, huge, NaN), every array (vocabulary, scores, merges) cut short, every matrix with its dimensions
 * swapped: loading the model and generating two tokens either works or fails with a {@link VellamaException},
 * within seconds, never with another exception, an error or a hang.
 */
class HostileHyperParametersTest {
    private static final long[] INTEGERS = {0, 1, 3, 7, -1, 1L << 20, Integer.MAX_VALUE, 0xFFFF_FFFFL, 1L << 40};
    private static final double[] FLOATS = {0, -1, 1e-30, 1e30, Double.NaN, Double.POSITIVE_INFINITY};

    @TempDir
    Path tmp;

    /** Runs one variant file; false once a variant hung (the rest are then skipped). */
    private interface Trial {
        boolean run(String what, GgufWriter variant) throws Exception;
    }

    /** Makes the variants of a model file and hands each to the trial. */
    private interface Variants {
        void each(GgufFile original, Trial trial) throws Exception;
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories-llama2-q8_0.gguf", "tiny-llama3-q8_0.gguf", "tiny-qwen2-q4_0.gguf", "tiny-qwen3-q8_0.gguf"})
    void everyHyperParameterFailsCleanlyOrWorks(String modelFile) throws Exception {
        eachVariantRunsOrFailsCleanly(modelFile, (f, trial) -> {
            for (Map.Entry<String, GgufValue> e : f.metadata().asMap().entrySet()) {
                if (e.getKey().startsWith("general.")) {
                    continue;
                }
                for (GgufValue v : hostileValues(e.getValue())) {
                    GgufWriter w = new GgufWriter().putAll(f.metadata()).put(e.getKey(), v);
                    for (GgufTensor t : f.tensors()) {
                        w.addTensor(t.name(), t.type(), t.shape(), t.data());
                    }
                    if (!trial.run(e.getKey() + "=" + (v.isArray() ? v.length() + " elements" : v.value()), w)) {
                        return;
                    }
                }
            }
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories-llama2-q8_0.gguf", "tiny-qwen3-q8_0.gguf"})
    void everyMatrixWithItsDimensionsSwappedFailsCleanly(String modelFile) throws Exception {
        eachVariantRunsOrFailsCleanly(modelFile, (f, trial) -> {
            for (GgufTensor swapped : f.tensors()) {
                long[] shape = swapped.shape();
                if (shape.length != 2 || shape[0] == shape[1] || shape[1] % swapped.type().blockSize() != 0) {
                    continue;
                }
                GgufWriter w = new GgufWriter().putAll(f.metadata());
                for (GgufTensor t : f.tensors()) {
                    w.addTensor(t.name(), t.type(), t == swapped ? new long[] {shape[1], shape[0]} : t.shape(), t.data());
                }
                if (!trial.run(swapped.name() + " as " + shape[1] + "x" + shape[0], w)) {
                    return;
                }
            }
        });
    }

    private static List<GgufValue> hostileValues(GgufValue original) {
        List<GgufValue> values = new ArrayList<>();
        GgufValueType type = original.type();
        if (type == GgufValueType.FLOAT32 || type == GgufValueType.FLOAT64) {
            for (double v : FLOATS) {
                values.add(GgufValue.float32((float) v));
            }
        } else if (type == GgufValueType.ARRAY) {
            // the vocabulary, scores, token types, merges, per-layer widths: cut short
            Object all = original.value();
            for (int n : new int[] {Array.getLength(all) / 2, 1}) {
                Object cut = Array.newInstance(all.getClass().getComponentType(), n);
                System.arraycopy(all, 0, cut, 0, n);
                values.add(GgufValue.array(original.elementType(), cut));
            }
        } else if (type != GgufValueType.STRING && type != GgufValueType.BOOL) {
            for (long v : INTEGERS) {
                values.add(GgufValue.integer(type, v));
            }
        }
        return values;
    }

    private void eachVariantRunsOrFailsCleanly(String modelFile, Variants variants) throws Exception {
        List<String> failures = new ArrayList<>();
        ExecutorService runner = Executors.newSingleThreadExecutor();
        Path file = tmp.resolve("variant.gguf");
        try (GgufFile f = GgufFile.open(TestData.model(modelFile))) {
            variants.each(f, (what, variant) -> {
                variant.write(file);
                try {
                    return runsOrFailsCleanly(runner, file, modelFile + " " + what, failures);
                } finally {
                    Files.deleteIfExists(file);
                }
            });
        } finally {
            runner.shutdownNow();
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " variants failed badly:\n" + String.join("\n", failures));
        }
    }

    /** Loads {@code file} and generates two tokens on {@code runner}; false after a hang (the runner is then spent). */
    private static boolean runsOrFailsCleanly(ExecutorService runner, Path file, String what, List<String> failures)
            throws InterruptedException {
        Future<?> run = runner.submit(() -> {
            try (Model model = Model.load(file);
                    Session s = model.newSession(SessionOptions.defaults().withContextSize(64).withThreads(1))) {
                s.generate("Once upon a time", GenerationParams.greedy().withMaxTokens(2), null);
            }
            return null;
        });
        try {
            run.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException hang) {
            failures.add(what + ": no answer in 20 s");
            run.cancel(true);
            return false;
        } catch (ExecutionException thrown) {
            Throwable c = thrown.getCause();
            if (!(c instanceof VellamaException)) {
                failures.add(what + ": " + c + " at " + (c.getStackTrace().length > 0 ? c.getStackTrace()[0] : "?"));
            }
        }
        return true;
    }
}
