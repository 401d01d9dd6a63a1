package dev.vellama.cli;

import dev.vellama.quant.Kernels;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonGenerator;

import dev.vellama.gguf.GgufTensor;
import dev.vellama.runtime.Benchmark;
import dev.vellama.runtime.CacheType;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.runtime.cuda.GpuLayers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code vellama bench}: llama-bench's tests and columns (pp = prompt processing, tg = generation; tokens/s as mean
 * ± standard deviation over repetitions after a warm-up), and its JSON field names, so both tools' results line up.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing (ppN) and generation (tgN) speed, like llama-bench.")
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, split = ",", paramLabel = "N", description = "Prompt lengths (default: 512).")
    List<Integer> prompts = new ArrayList<>(List.of(512));

    @Option(names = {"-n", "--n-gen"}, split = ",", paramLabel = "N", description = "Generation lengths (default: 128).")
    List<Integer> gens = new ArrayList<>(List.of(128));

    @Option(names = {"-d", "--n-depth"}, split = ",", paramLabel = "N",
            description = "Tokens already in the cache when each test starts, as llama-bench's -d (default: 0).")
    List<Integer> depths = List.of(0);

    @Option(names = {"-ctk", "--cache-type-k"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "KV cache type of keys, as llama-bench (default: ${DEFAULT-VALUE}).")
    String cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "KV cache type of values (default: ${DEFAULT-VALUE}).")
    String cacheTypeV;

    @Option(names = {"-t", "--threads"}, split = ",", paramLabel = "N", description = "Thread counts (default: all processors).")
    List<Integer> threads = new ArrayList<>(List.of(Runtime.getRuntime().availableProcessors()));

    @Option(names = {"-r", "--repetitions"}, defaultValue = "5", paramLabel = "N", description = "Repetitions of each test (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "512", paramLabel = "N", description = "Prompt batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--device", paramLabel = "cpu|cuda", defaultValue = "cpu", description = "Where to compute (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = {"-ngl", "--n-gpu-layers"}, paramLabel = "N|all", defaultValue = "all",
            description = "With --device cuda: layers on the GPU (default: ${DEFAULT-VALUE}).")
    String gpuLayers;

    @Option(names = "--json", description = "Print a JSON array, one object per test, with llama-bench's field names.")
    boolean json;

    private record Result(int threads, int nPrompt, int nGen, int depth, long[] samplesNs) {
        int tokens() {
            return nPrompt + nGen;
        }

        double[] samplesTs() {
            double[] ts = new double[samplesNs.length];
            for (int i = 0; i < ts.length; i++) {
                ts[i] = tokens() * 1e9 / samplesNs[i];
            }
            return ts;
        }

        String test() {
            return (nPrompt > 0 ? "pp" + nPrompt : "tg" + nGen) + (depth > 0 ? " @ d" + depth : "");
        }
    }

    @Override
    public Integer call() throws IOException {
        if (repetitions < 1 || batch < 1 || prompts.stream().anyMatch(p -> p < 0) || gens.stream().anyMatch(g -> g < 0)
                || threads.stream().anyMatch(t -> t < 1) || depths.stream().anyMatch(d -> d < 0)) {
            throw new IllegalArgumentException("-r, -b and -t must be at least 1; -p, -n and -d must not be negative");
        }
        PrintWriter out = spec.commandLine().getOut();
        int ctx = Math.max(1, Math.max(prompts.stream().mapToInt(Integer::intValue).max().orElse(0),
                gens.stream().mapToInt(Integer::intValue).max().orElse(0))) + depths.stream().mapToInt(Integer::intValue).max().orElse(0);
        List<Result> results = new ArrayList<>();
        try (Model m = Model.load(model)) {
            long size = m.file().tensors().stream().mapToLong(GgufTensor::byteSize).sum();
            long params = m.parameterCount();
            String type = modelType(m, params);
            // llama-bench shows the offloaded layer count instead of threads for a GPU run; so does this table
            cuda = ModelOptions.parseDevice(device) == SessionOptions.Device.CUDA;
            for (int t : threads) {
                SessionOptions.Device target = ModelOptions.parseDevice(device);
                SessionOptions options = new SessionOptions(ctx, Math.min(batch, ctx), t, target, GpuLayers.parse(gpuLayers))
                        .withCacheTypes(CacheType.parse(cacheTypeK), CacheType.parse(cacheTypeV));
                try (Session s = m.newSession(options)) {
                    backend = s.kernelDescription().startsWith("CUDA") ? "CUDA" : "CPU (Java)";
                    if (!json && !headerPrinted) {
                        // printed once the first session has opened, so a failure to open one prints only its error
                        out.println("| model                          |       size |     params | backend    | "
                                + (cuda ? "    ngl" : "threads") + " |          test |                  t/s |");
                        out.println("| ------------------------------ | ---------: | ---------: | ---------- | ------: | ------------: | -------------------: |");
                        out.flush();
                        headerPrinted = true;
                    }
                    for (int d : depths) {
                        for (int p : prompts) {
                            if (p > 0) {
                                results.add(run(s, t, p, 0, d, size, params, type, out));
                            }
                        }
                        for (int g : gens) {
                            if (g > 0) {
                                results.add(run(s, t, 0, g, d, size, params, type, out));
                            }
                        }
                    }
                }
            }
            if (json) {
                printJson(out, m, type, size, params, results);
            }
        }
        return 0;
    }

    private String backend = "CPU (Java)";
    private boolean cuda;
    private boolean headerPrinted;

    private Result run(Session s, int t, int p, int g, int d, long size, long params, String type, PrintWriter out) {
        measure(s, p, g, d, 0); // warm-up
        Kernels.settle(); // and the packed copies' gathering into huge pages out of the way of the timed runs
        long[] samples = new long[repetitions];
        for (int i = 0; i < repetitions; i++) {
            samples[i] = measure(s, p, g, d, i + 1);
        }
        Result r = new Result(t, p, g, d, samples);
        if (!json) {
            double[] ts = r.samplesTs();
            // the size is as wide as its header ("size", right-aligned in ten), as llama-bench prints it
            out.printf("| %-30s | %10s | %8.2f M | %-10s | %7s | %13s | %12.2f ± %5.2f |%n", type,
                    String.format(java.util.Locale.ROOT, "%.2f MiB", size / 1048576.0),
                    params / 1e6, backend, cuda ? gpuLayers : Integer.toString(t), r.test(), mean(ts), stddev(ts));
            out.flush();
        }
        return r;
    }

    private static long measure(Session s, int p, int g, int d, long seed) {
        return p > 0 ? Benchmark.promptProcessing(s, p, d, seed) : Benchmark.generation(s, g, d, seed);
    }

    /** llama.cpp's model description: architecture, size label, file type ("llama 1B Q4_0"). */
    static String modelType(Model m, long params) {
        String label = m.file().metadata().getString("general.size_label", null);
        if (label == null) {
            label = params >= 1e9 ? Math.round(params / 1e9) + "B" : Math.round(params / 1e6) + "M";
        }
        return m.config().architecture().ggufName() + " " + label + " " + fileTypeName(m.file().metadata().getInt("general.file_type", -1));
    }

    static String fileTypeName(int id) {
        return switch (id) {
            case 0 -> "all F32";
            case 1 -> "F16";
            case 2 -> "Q4_0";
            case 3 -> "Q4_1";
            case 7 -> "Q8_0";
            case 8 -> "Q5_0";
            case 9 -> "Q5_1";
            case 10 -> "Q2_K - Medium";
            case 11 -> "Q3_K - Small";
            case 12 -> "Q3_K - Medium";
            case 13 -> "Q3_K - Large";
            case 14 -> "Q4_K - Small";
            case 15 -> "Q4_K - Medium";
            case 16 -> "Q5_K - Small";
            case 17 -> "Q5_K - Medium";
            case 18 -> "Q6_K";
            case 25 -> "IQ4_NL - 4.5 bpw";
            case 30 -> "IQ4_XS - 4.25 bpw";
            case 32 -> "BF16";
            default -> "?B";
        };
    }

    private void printJson(PrintWriter out, Model m, String type, long size, long params, List<Result> results) throws IOException {
        try (JsonGenerator gen = JsonOutput.open(out)) {
            gen.useDefaultPrettyPrinter();
            gen.writeStartArray();
            for (Result r : results) {
                double[] ts = r.samplesTs();
                double[] ns = new double[r.samplesNs.length];
                for (int i = 0; i < ns.length; i++) {
                    ns[i] = r.samplesNs[i];
                }
                gen.writeStartObject();
                gen.writeStringField("build_commit", "vellama");
                gen.writeStringField("cpu_info", System.getProperty("os.arch") + ", " + Runtime.getRuntime().availableProcessors() + " processors");
                gen.writeStringField("gpu_info", "");
                gen.writeStringField("backends", backend);
                gen.writeStringField("model_filename", model.toString());
                gen.writeStringField("model_type", type);
                gen.writeNumberField("model_size", size);
                gen.writeNumberField("model_n_params", params);
                gen.writeNumberField("n_batch", batch);
                gen.writeNumberField("n_ubatch", batch);
                gen.writeNumberField("n_threads", r.threads);
                gen.writeStringField("type_k", CacheType.parse(cacheTypeK).llamaName());
                gen.writeStringField("type_v", CacheType.parse(cacheTypeV).llamaName());
                gen.writeNumberField("n_gpu_layers", ModelOptions.parseDevice(device) == SessionOptions.Device.CUDA
                        ? Math.min(GpuLayers.parse(gpuLayers), m.config().layerCount() + 1) : 0);
                gen.writeBooleanField("use_mmap", true);
                gen.writeNumberField("n_prompt", r.nPrompt);
                gen.writeNumberField("n_gen", r.nGen);
                gen.writeNumberField("n_depth", r.depth);
                gen.writeStringField("test_time", Instant.now().toString());
                gen.writeNumberField("avg_ns", Math.round(mean(ns)));
                gen.writeNumberField("stddev_ns", Math.round(stddev(ns)));
                gen.writeNumberField("avg_ts", mean(ts));
                gen.writeNumberField("stddev_ts", stddev(ts));
                gen.writeArrayFieldStart("samples_ns");
                for (long v : r.samplesNs) {
                    gen.writeNumber(v);
                }
                gen.writeEndArray();
                gen.writeArrayFieldStart("samples_ts");
                for (double v : ts) {
                    gen.writeNumber(v);
                }
                gen.writeEndArray();
                gen.writeEndObject();
            }
            gen.writeEndArray();
        }
        out.println();
        out.flush();
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double stddev(double[] v) {
        if (v.length < 2) {
            return 0;
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }
}
