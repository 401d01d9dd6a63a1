package dev.vellama.runtime.cuda;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;
import dev.vellama.runtime.ModelConfig;
import dev.vellama.runtime.model.ModelWeights;

/**
 * Runs the CUDA tests on a machine without Maven (see docs/cuda.md and scripts/gpu-check.sh): prints the device,
 * every test's outcome with the reason of a skip or failure, and a summary; then, with {@code --bench}, decode
 * speed of the whole-GPU forward pass and the batch engine on the GPU. Exits 1 when a test failed, or when
 * {@code --require-gpu} is given and there is no device. {@code --no-emulation} leaves out the tests that run on
 * the host alone (emulated kernels, nvcc, host decoders), which every build runs anyway.
 */
public final class GpuCheck {
    private GpuCheck() {}

    public static void main(String[] args) throws Exception {
        boolean requireGpu = java.util.Arrays.asList(args).contains("--require-gpu");
        boolean bench = java.util.Arrays.asList(args).contains("--bench");
        boolean device = describeDevice();
        if (!device && requireGpu) {
            System.exit(1);
        }
        LauncherDiscoveryRequestBuilder builder = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage(GpuCheck.class.getPackageName()));
        if (java.util.Arrays.asList(args).contains("--no-emulation")) {
            // the host emulation and host-only tests run in every build; on a GPU lease the device's time is dear
            builder.filters(org.junit.platform.engine.discovery.ClassNameFilter.excludeClassNamePatterns(
                    ".*\\.Emulated.*", ".*\\.NvccCompileTest", ".*\\.HostDecoderTest", ".*\\.PartialOffloadSplitTest"));
        }
        LauncherDiscoveryRequest request = builder.build();
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request, summary, new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                System.out.println("SKIP " + id.getDisplayName() + ": " + reason);
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest()) {
                    return;
                }
                String name = id.getUniqueIdObject().getSegments().get(1).getValue().replaceAll(".*\\.", "") + " "
                        + id.getDisplayName();
                switch (result.getStatus()) {
                    case SUCCESSFUL -> System.out.println("PASS " + name);
                    case ABORTED -> System.out.println("SKIP " + name + ": "
                            + result.getThrowable().map(Throwable::getMessage).orElse(""));
                    case FAILED -> System.out.println("FAIL " + name + ": "
                            + result.getThrowable().map(Throwable::toString).orElse(""));
                }
            }
        });
        summary.getSummary().printTo(new PrintWriter(System.out, true));
        summary.getSummary().printFailuresTo(new PrintWriter(System.out, true), 20);
        if (bench && device) {
            for (String fuse : new String[] {"true", "false"}) {
                System.setProperty("vellama.cuda.fuse", fuse); // the small kernels fused, then apart
                try {
                    benchDecode("stories-llama2-q8_0.gguf", 128);
                } finally {
                    System.clearProperty("vellama.cuda.fuse");
                }
            }
            benchBatched(TestData.resolve("models/stories-llama2-q8_0.gguf"), 128);
            Path synthetic = synthesize("llama-3.2-1b", "Q4_0");
            if (synthetic != null) {
                benchPrompt(synthetic);
                benchBatched(synthetic, 64);
            }
            benchKernels();
        }
        System.exit(summary.getSummary().getTotalFailureCount() > 0 ? 1 : 0);
    }

    private static boolean describeDevice() {
        try {
            CudaDriver d = CudaDriver.load();
            int dev = d.device(0);
            System.out.printf("CUDA driver %d, %d device(s); device 0: %s, compute %d.%d, %d SMs, %d MiB%n",
                    d.driverVersion(), d.deviceCount(), d.deviceName(dev),
                    d.deviceAttribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR, dev),
                    d.deviceAttribute(CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR, dev),
                    d.deviceAttribute(CudaDriver.ATTR_MULTIPROCESSOR_COUNT, dev), d.deviceTotalMemory(dev) >> 20);
            return true;
        } catch (CudaUnavailableException e) {
            System.out.println("no CUDA: " + e.getMessage());
            return false;
        }
    }

    /**
     * Bandwidth of the matvec kernels and throughput of the batched matmul on Llama-3.2-1B-sized matrices, and the
     * host-side cost of one launch, timed with CUDA events (what decode speed is made of).
     */
    private static void benchKernels() throws CudaUnavailableException {
        try (CudaContext ctx = CudaContext.open(0); CudaKernels k = new CudaKernels(ctx)) {
            CudaDriver d = ctx.driver();
            MemorySegment start = d.createEvent(0);
            MemorySegment end = d.createEvent(0);
            int[][] shapes = {{8192, 2048}, {2048, 8192}, {128256, 2048}};
            for (dev.vellama.gguf.GgmlType type : java.util.List.of(dev.vellama.gguf.GgmlType.Q4_0,
                    dev.vellama.gguf.GgmlType.Q8_0, dev.vellama.gguf.GgmlType.Q4_K, dev.vellama.gguf.GgmlType.Q6_K)) {
                for (int[] shape : shapes) {
                    int rows = shape[0];
                    int cols = shape[1];
                    dev.vellama.quant.WeightMatrix w = dev.vellama.quant.SyntheticWeights.heap(type, rows, cols, 5);
                    try (GpuMatrix m = GpuMatrix.upload(ctx, w, s -> { });
                         DeviceBuffer x = ctx.allocate(4L * cols * 512); DeviceBuffer y = ctx.allocate(4L * rows * 512);
                         CudaKernels tensorCores = new CudaKernels(ctx, true)) {
                        ctx.upload(CudaTestSupport.randomFloats(cols * 512, 3), 0, cols * 512, x, 0);
                        for (int warpRows = 1; warpRows <= 2; warpRows++) {
                            System.setProperty("vellama.cuda.matvecRows", "" + warpRows);
                            try (CudaKernels kv = new CudaKernels(ctx)) {
                                int reps = 200;
                                for (int i = 0; i < 20; i++) {
                                    kv.matvec(m, x, y);
                                }
                                d.recordEvent(start, ctx.stream());
                                for (int i = 0; i < reps; i++) {
                                    kv.matvec(m, x, y);
                                }
                                d.recordEvent(end, ctx.stream());
                                d.synchronizeEvent(end);
                                double us = d.elapsedMillis(start, end) * 1000.0 / reps;
                                double gbs = (double) m.rowBytes() * rows / (us * 1e3);
                                System.out.printf("kernel matvec %s %dx%d, %d row(s) per warp: %.1f us, %.0f GB/s%n",
                                        type, rows, cols, warpRows, us, gbs);
                            } finally {
                                System.clearProperty("vellama.cuda.matvecRows");
                            }
                        }
                        for (int n : new int[] {8, 64, 512}) {
                            for (CudaKernels kind : new CudaKernels[] {k, tensorCores}) {
                                kind.matmul(m, x, n, y); // the tensor-core kernel's F16 buffer grows here
                                d.recordEvent(start, ctx.stream());
                                for (int i = 0; i < 20; i++) {
                                    kind.matmul(m, x, n, y);
                                }
                                d.recordEvent(end, ctx.stream());
                                d.synchronizeEvent(end);
                                double mus = d.elapsedMillis(start, end) * 1000.0 / 20;
                                System.out.printf("kernel matmul%s %s %dx%d n=%d: %.1f us, %.0f GFLOP/s%n",
                                        kind.tensorCores() ? " (tensor cores)" : "", type, rows, cols, n, mus,
                                        2.0 * rows * cols * n / (mus * 1e3));
                            }
                        }
                    }
                }
            }
            try (DeviceBuffer a = ctx.allocate(4L * 2048); DeviceBuffer b = ctx.allocate(4L * 2048)) {
                int launches = 5000;
                for (int round = 0; round < 2; round++) {
                    ctx.synchronize();
                    long t0 = System.nanoTime();
                    d.recordEvent(start, ctx.stream());
                    for (int i = 0; i < launches; i++) {
                        k.add(a, b, 2048);
                    }
                    d.recordEvent(end, ctx.stream());
                    long submitted = System.nanoTime();
                    d.synchronizeEvent(end);
                    System.out.printf("launch: %.2f us per launch submitted from Java, %.2f us each on the GPU%n",
                            (submitted - t0) / 1e3 / launches, d.elapsedMillis(start, end) * 1000.0 / launches);
                }
            }
            d.destroyEvent(start);
            d.destroyEvent(end);
        }
    }

    /**
     * Aggregate generated tokens per second of the batch engine on the GPU with 1, 2, 4 and 8 slots, as many
     * requests as slots (a 24-token prompt each, {@code tokens} generated, end of text ignored), after a warm-up
     * request; then a lone CUDA session's decode speed on the same model for comparison.
     */
    private static void benchBatched(Path model, int tokens) throws Exception {
        if (model == null || !Files.isRegularFile(model)) {
            System.out.println("batched bench skipped: " + model + " is not there");
            return;
        }
        try (dev.vellama.runtime.Model m = dev.vellama.runtime.Model.load(model)) {
            int vocab = m.config().vocabSize();
            dev.vellama.runtime.GenerationParams params = dev.vellama.runtime.GenerationParams.greedy().toBuilder()
                    .maxTokens(tokens).ignoreEos(true).build();
            for (int slots : new int[] {1, 2, 4, 8}) {
                dev.vellama.runtime.BatchEngine.Options o = dev.vellama.runtime.BatchEngine.Options.of(slots, slots * 512)
                        .withThreads(4).withDevice(dev.vellama.runtime.SessionOptions.Device.CUDA,
                                dev.vellama.runtime.SessionOptions.ALL_LAYERS);
                try (dev.vellama.runtime.BatchEngine engine = new dev.vellama.runtime.BatchEngine(m, o)) {
                    run(engine, 1, vocab, 99, dev.vellama.runtime.GenerationParams.greedy().toBuilder().maxTokens(16)
                            .ignoreEos(true).build()); // warm-up
                    long t0 = System.nanoTime();
                    double[] firstToken = run(engine, slots, vocab, slots, params);
                    double s = (System.nanoTime() - t0) / 1e9;
                    System.out.printf("bench %s batched on the GPU, %d slot(s): %d x %d tokens in %.3f s = %.1f tokens/s"
                            + " aggregate, first token after %.1f ms (mean)%n", model.getFileName(), slots, slots, tokens,
                            s, slots * tokens / s, firstToken[0]);
                }
            }
            try (dev.vellama.runtime.Session session = m.newSession(dev.vellama.runtime.SessionOptions.defaults()
                    .withContextSize(512).withDevice(dev.vellama.runtime.SessionOptions.Device.CUDA,
                            dev.vellama.runtime.SessionOptions.ALL_LAYERS))) {
                int[] prompt = prompt(vocab, 0);
                session.generate(prompt, dev.vellama.runtime.GenerationParams.greedy().toBuilder().maxTokens(16)
                        .ignoreEos(true).build(), null);
                dev.vellama.runtime.GenerationResult r = session.generate(prompt, params, null);
                System.out.printf("bench %s lone CUDA session: %d tokens at %.1f tokens/s%n", model.getFileName(),
                        r.tokens().size(), r.timings().generatedTokens() / (r.timings().generationNanos() / 1e9));
            }
        }
    }

    /** Submits n requests and waits for all; the mean milliseconds to each one's first token. */
    private static double[] run(dev.vellama.runtime.BatchEngine engine, int n, int vocab, int seed,
                                dev.vellama.runtime.GenerationParams params) throws Exception {
        java.util.List<java.util.concurrent.CompletableFuture<Long>> done = new java.util.ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            java.util.concurrent.CompletableFuture<Long> f = new java.util.concurrent.CompletableFuture<>();
            long[] first = {0};
            engine.submit(prompt(vocab, seed * 100 + i), params, new dev.vellama.runtime.BatchEngine.Listener() {
                @Override
                public void onToken(dev.vellama.runtime.GeneratedToken token) {
                    if (first[0] == 0) {
                        first[0] = System.nanoTime();
                    }
                }

                @Override
                public void onEnd(dev.vellama.runtime.GenerationResult result) {
                    f.complete(first[0] - t0);
                }

                @Override
                public void onError(RuntimeException error) {
                    f.completeExceptionally(error);
                }
            });
            done.add(f);
        }
        double sum = 0;
        for (java.util.concurrent.CompletableFuture<Long> f : done) {
            sum += f.get(120, java.util.concurrent.TimeUnit.SECONDS) / 1e6;
        }
        return new double[] {sum / n};
    }

    private static int[] prompt(int vocab, int seed) {
        int[] p = new int[24];
        for (int i = 0; i < p.length; i++) {
            p[i] = 1 + (int) ((seed * 7919L + i * 31L) % (vocab - 1));
        }
        return p;
    }

    /**
     * A model of a real one's shape with random weights, written to a temporary file with the vocabulary of the
     * shared model its shape names; null (with a line) where that model is not in the bundle.
     */
    private static Path synthesize(String shapeName, String type) throws Exception {
        dev.vellama.runtime.synth.ModelShape shape = dev.vellama.runtime.synth.ModelShape.named(shapeName);
        Path vocabulary = TestData.resolve("models/" + shape.tokenizerModel());
        if (!Files.isRegularFile(vocabulary)) {
            System.out.println("synthetic " + shapeName + " skipped: " + vocabulary + " is not there");
            return null;
        }
        Path out = Files.createTempFile("synthetic-" + shapeName, ".gguf");
        out.toFile().deleteOnExit();
        long t0 = System.nanoTime();
        try (GgufFile source = GgufFile.open(vocabulary)) {
            dev.vellama.runtime.synth.SyntheticModel.write(shape, dev.vellama.runtime.synth.SyntheticModel.FileType.parse(type),
                    source.metadata(), 1, out);
        }
        System.out.printf("synthetic %s %s written in %.1f s%n", shapeName, type, (System.nanoTime() - t0) / 1e9);
        return out;
    }

    /**
     * Prompt processing with everything on the GPU, as llama-bench's pp512 and pp4096 (chunks of 512 from position
     * 0, logits of the last token), with the F32 tiled matmul and with the tensor-core one; the median of three runs
     * after a warm-up run, and decode from position 0 and after 8192 tokens (tg @ d8192) for the attention's cost at
     * depth; then the same with a Q8_0 cache (llama.cpp's {@code -ctk q8_0 -ctv q8_0}).
     */
    private static void benchPrompt(Path model) throws Exception {
        try (GgufFile file = GgufFile.open(model)) {
            int vocab = (int) file.tensor("token_embd.weight").rows();
            ModelConfig c = ModelConfig.fromGguf(file.metadata(), vocab);
            ModelWeights w = new ModelWeights(file, c);
            int[] ids = new int[8192 + 64];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 1 + i * 31 % (vocab - 1);
            }
            for (String run : new String[] {"simt f16", "mma f16", "simt q8_0"}) {
                String kind = run.split(" ")[0];
                dev.vellama.gguf.GgmlType cache = run.endsWith("q8_0") ? dev.vellama.gguf.GgmlType.Q8_0
                        : dev.vellama.gguf.GgmlType.F16;
                System.setProperty("vellama.cuda.matmul", kind);
                try (CudaForwardPass pass = CudaForwardPass.create(c, w, ids.length, 512, GpuLayers.ALL, 4, cache, cache,
                        s -> { })) {
                    for (int total : new int[] {512, 4096}) {
                        double[] runs = new double[4];
                        for (int r = 0; r < runs.length; r++) {
                            long t0 = System.nanoTime();
                            for (int p = 0; p < total; p += 512) {
                                pass.forwardLast(ids, p, 512, p);
                            }
                            runs[r] = total / ((System.nanoTime() - t0) / 1e9);
                        }
                        double[] timed = java.util.Arrays.copyOfRange(runs, 1, runs.length);
                        java.util.Arrays.sort(timed);
                        System.out.printf("bench %s pp%d (%s matmul, %s cache): %.0f tokens/s (runs %.0f, %.0f, %.0f)%n",
                                model.getFileName(), total, kind, cache, timed[1], runs[1], runs[2], runs[3]);
                    }
                    // decode at depth 0 and at depth 8192 (llama-bench's tg @ d): the ratio is the second over
                    // the first
                    double shallow = decodeSpeed(pass, ids, 0);
                    for (int p = 4096; p < 8192; p += 512) {
                        pass.forwardLast(ids, p, 512, p);
                    }
                    double deep = decodeSpeed(pass, ids, 8192);
                    System.out.printf("bench %s tg56 (%s, %s cache): %.1f tokens/s; tg56 @ d8192: %.1f tokens/s (%.2fx)%n",
                            model.getFileName(), kind, cache, shallow, deep, deep / shallow);
                } finally {
                    System.clearProperty("vellama.cuda.matmul");
                }
            }
        }
    }

    /** Tokens per second of 56 single-token steps from position {@code depth}, after 8 warm-up steps. */
    private static double decodeSpeed(CudaForwardPass pass, int[] ids, int depth) {
        for (int i = 0; i < 8; i++) {
            pass.forwardLast(ids, depth + i, 1, depth + i); // warm-up (and the graph's capture)
        }
        long t0 = System.nanoTime();
        for (int i = 8; i < 64; i++) {
            pass.forwardLast(ids, depth + i, 1, depth + i);
        }
        return 56 / ((System.nanoTime() - t0) / 1e9);
    }

    /** Tokens per second of single-token decode with everything on the GPU, after a short warm-up. */
    private static void benchDecode(String modelName, int tokens) throws Exception {
        Path model = TestData.resolve("models/" + modelName);
        if (!Files.isRegularFile(model)) {
            System.out.println("bench skipped: " + model + " is not there");
            return;
        }
        try (GgufFile file = GgufFile.open(model)) {
            int vocab = (int) file.tensor("token_embd.weight").rows();
            ModelConfig c = ModelConfig.fromGguf(file.metadata(), vocab);
            ModelWeights w = new ModelWeights(file, c);
            int context = Math.min(c.contextLength(), 2 * tokens + 16);
            try (CudaForwardPass pass = CudaForwardPass.create(c, w, context, 64, GpuLayers.ALL, 4, s -> { })) {
                int[] ids = new int[2 * tokens + 16];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = 1 + i * 31 % (vocab - 1);
                }
                for (int i = 0; i < 16; i++) {
                    pass.forwardLast(ids, i, 1, i);
                }
                long t0 = System.nanoTime();
                for (int i = 0; i < tokens; i++) {
                    pass.forwardLast(ids, 16 + i, 1, 16 + i);
                }
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf("bench %s decode (fused kernels %s): %d tokens in %.3f s = %.1f tokens/s (positions 16..%d)%n",
                        modelName, System.getProperty("vellama.cuda.fuse", "true"), tokens, s, tokens / s, 16 + tokens);
                long p0 = System.nanoTime();
                pass.forwardLast(ids, 0, 64, 16 + tokens);
                double ps = (System.nanoTime() - p0) / 1e9;
                System.out.printf("bench %s prompt chunk of 64: %.3f s = %.1f tokens/s%n", modelName, ps, 64 / ps);
            }
        }
    }
}
