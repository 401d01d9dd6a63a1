package dev.vellama.cli;

import java.nio.file.Path;

import dev.vellama.runtime.SessionOptions;
import dev.vellama.runtime.CacheType;
import dev.vellama.runtime.cuda.GpuLayers;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/** Options every command that runs a model shares: the file and how the session is sized. */
final class ModelOptions {
    /** The model: a file, or a repository of the Hugging Face Hub (pulled into the cache the first time). */
    static final class Source {
        @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
        Path file;

        @Option(names = {"-hf", "-hfr", "--hf-repo"}, required = true, paramLabel = "ORG/REPO[:QUANT]",
                description = "A GGUF of the Hugging Face Hub, from the cache or pulled into it (see 'vellama pull').")
        String hub;

        /** The file: the one given, or the cached or freshly pulled one. */
        Path resolve(java.io.PrintWriter err) throws java.io.IOException {
            return file != null ? file : HubModels.resolve(dev.vellama.cli.hub.HubReference.parse(hub), err);
        }
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;
    private Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Compute threads (default: all processors).")
    Integer threads;

    @Option(names = {"-c", "--ctx-size", "--ctx"}, paramLabel = "N",
            description = "Context size in tokens; 0 = the model's training context, as llama.cpp (default: 4096, or the"
                    + " training context when smaller).")
    Integer contextSize;

    @Option(names = {"-b", "--batch-size", "--batch"}, paramLabel = "N", defaultValue = "512",
            description = "Prompt tokens evaluated per batch (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--device", paramLabel = "cpu|cuda", defaultValue = "cpu",
            description = "Where to compute (default: ${DEFAULT-VALUE}); cuda needs an NVIDIA driver.")
    String device;

    @Option(names = {"-ngl", "--gpu-layers", "--n-gpu-layers"}, paramLabel = "N|all", defaultValue = "all",
            description = "With --device cuda: layers on the GPU, the first ones first (default: ${DEFAULT-VALUE}).")
    String gpuLayers;

    @Option(names = {"-ctk", "--cache-type-k"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "How the KV cache stores keys: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl (default: ${DEFAULT-VALUE}, as llama.cpp).")
    String cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "How the KV cache stores values, as -ctk (default: ${DEFAULT-VALUE}).")
    String cacheTypeV;

    @Option(names = "--cache-type", paramLabel = "TYPE", description = "Both -ctk and -ctv.")
    String cacheType;

    /** The model file, pulled first where {@code -hf} names one that is not in the cache yet. */
    Path model(java.io.PrintWriter err) throws java.io.IOException {
        if (model == null) {
            model = source.resolve(err);
        }
        return model;
    }

    /** The session options for {@code model}: {@code -c 0} resolves to its training context. */
    SessionOptions sessionOptions(dev.vellama.runtime.Model model) {
        SessionOptions o = sessionOptions();
        return contextSize != null && contextSize == 0 ? o.withContextSize(model.config().contextLength()) : o;
    }

    SessionOptions sessionOptions() {
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, not " + threads + " (leave it out for all processors)");
        }
        if ((contextSize != null && contextSize < 0) || batchSize < 1) {
            throw new IllegalArgumentException("--ctx-size must not be negative, --batch-size must be at least 1");
        }
        CacheType keys = parseCacheType(cacheType != null ? cacheType : cacheTypeK);
        CacheType values = parseCacheType(cacheType != null ? cacheType : cacheTypeV);
        return new SessionOptions(contextSize == null ? 0 : contextSize, batchSize, threads == null ? 0 : threads, parseDevice(device),
                GpuLayers.parse(gpuLayers), keys, values);
    }

    /** {@code --cache-type}, {@code -ctk}, {@code -ctv}: llama.cpp's cache type names. */
    static CacheType parseCacheType(String cacheType) {
        return CacheType.parse(cacheType);
    }

    static SessionOptions.Device parseDevice(String device) {
        return switch (device.toLowerCase(java.util.Locale.ROOT)) {
            case "cpu" -> SessionOptions.Device.CPU;
            case "cuda" -> SessionOptions.Device.CUDA;
            default -> throw new IllegalArgumentException("--device must be cpu or cuda, not '" + device + "'");
        };
    }
}
