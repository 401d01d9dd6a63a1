package dev.vellama.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.runtime.cuda.GpuLayers;
import dev.vellama.runtime.CacheType;
import dev.vellama.server.VellamaServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code vellama serve}: an OpenAI-compatible HTTP server with parallel slots and continuous batching, with
 * llama-server's options. It listens at once (health 503 while the model loads) and runs until interrupted.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the model over HTTP with OpenAI's API (/v1/chat/completions, /v1/completions, /v1/models),"
                + " /health, /metrics, /tokenize and /detokenize; several requests at once by continuous batching.")
final class ServeCommand implements Callable<Integer> {
    /**
     * Tokens each warm-up generation samples. On a 1B Q4_0 model with 4 slots on 2 cores, 8 took 6.5 s and left
     * the first request at 1.24 s (4.6 s without a warm-up, 1.0–1.1 s for the next ones); 16 took 7.7 s for 1.37.
     */
    private static final int WARMUP_TOKENS = 8;

    @Spec
    CommandSpec spec;

    @picocli.CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    ModelOptions.Source source;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "N", description = "Port (default: ${DEFAULT-VALUE}; 0: any free one).")
    int port;

    @Option(names = {"-np", "--parallel"}, defaultValue = "1", paramLabel = "N",
            description = "Slots: requests generated at once (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = {"-c", "--ctx-size", "--ctx"}, defaultValue = "0", paramLabel = "N",
            description = "Context shared by all slots, each gets N / slots (default: 4096 per slot, at most the model's training context).")
    int contextSize;

    @Option(names = {"-b", "--batch-size", "--batch"}, defaultValue = "512", paramLabel = "N",
            description = "Rows one step evaluates at most, decode tokens and prompt chunks together (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = {"-t", "--threads"}, defaultValue = "0", paramLabel = "N", description = "Compute threads (default: all processors).")
    int threads;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on every route but /health.")
    String apiKey;

    @Option(names = {"-a", "--alias"}, paramLabel = "NAME", description = "Model id in the API (default: the file name).")
    String alias;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Render chats with this Jinja file (or chatml) instead of the model's template.")
    String chatTemplate;

    @Option(names = "--chat-template-kwargs", paramLabel = "JSON",
            description = "Variables for the chat template, as a JSON object: '{\"enable_thinking\": false}', '{\"reasoning_effort\": \"high\"}'.")
    String chatTemplateKwargs;

    @Option(names = "--context-shift", description = "When a slot's context fills, forget its oldest tokens after"
            + " n_keep (a request's field; default: the BOS token) and go on, as llama-server's --context-shift;"
            + " without it the reply ends with finish_reason \"length\". CPU slots only for now.")
    boolean contextShift;

    @Option(names = "--queue", defaultValue = "64", paramLabel = "N",
            description = "Requests that may wait for a free slot; more get 503 (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = {"--cache-type", "-ctk", "--cache-type-k", "-ctv", "--cache-type-v"}, paramLabel = "TYPE", defaultValue = "f16",
            description = "How the slots' KV caches store keys and values: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl"
                    + " (default: ${DEFAULT-VALUE}).")
    String cacheType;

    @Option(names = "--device", paramLabel = "cpu|cuda", defaultValue = "cpu",
            description = "Where the batched step runs (default: ${DEFAULT-VALUE}); cuda needs an NVIDIA driver.")
    String device;

    @Option(names = {"-ngl", "--gpu-layers", "--n-gpu-layers"}, paramLabel = "N|all", defaultValue = "all",
            description = "With --device cuda: layers on the GPU, the first ones first (default: ${DEFAULT-VALUE}).")
    String gpuLayers;

    @Option(names = "--no-warmup", description = "Serve at once instead of first running a few throwaway generations"
            + " (as llama-server's warm-up; they make the weights' packed copies and let the JIT compile the kernels,"
            + " so the first requests are not slow).")
    boolean noWarmup;

    @Option(names = "--spm-infill", description = "Lay /infill prompts out suffix first (for models trained so;"
            + " llama-server's --spm-infill).")
    boolean spmInfill;

    @picocli.CommandLine.Mixin
    LoraOptions lora;

    @Option(names = "--lora-init-without-apply", description = "Load the --lora adapters at scale 0: requests turn them on"
            + " with their own 'lora' field, or POST /lora-adapters for all (llama-server's flag).")
    boolean loraOff;

    @Option(names = "--slot-save-path", paramLabel = "DIR", description = "Where POST /slots/ID?action=save|restore"
            + " keep slots' caches (made if missing); without it those actions answer 501, as in llama-server.")
    Path slotSavePath;

    @Option(names = "--slots", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Serve GET /slots, what each slot runs and holds (default: on; --no-slots turns it off).")
    boolean slotsEndpoint;

    @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "On SIGTERM, how long running requests may take to finish while /health says 503 and new"
                    + " requests are refused (default: ${DEFAULT-VALUE}).")
    int drainSeconds;

    /** On SIGTERM (or Ctrl-C): drain, then let the serving thread close the engine and the model. */
    private void drainOnExit(VellamaServer server, CountDownLatch stopped, java.io.PrintWriter err) {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                err.println("vellama: draining: finishing running requests (at most " + drainSeconds + " s)");
                err.flush();
                boolean done = server.drain(java.time.Duration.ofSeconds(Math.max(0, drainSeconds)));
                err.println(done ? "vellama: drained; stopping" : "vellama: drain timed out; stopping");
                err.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                stopped.countDown();
            }
        }));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (parallel < 1 || contextSize < 0 || batchSize < 1 || threads < 0 || queue < 0) {
            throw new IllegalArgumentException("--parallel and --batch-size must be at least 1; --ctx-size, --threads and --queue not negative");
        }
        CacheType precision = ModelOptions.parseCacheType(cacheType);
        SessionOptions.Device where = ModelOptions.parseDevice(device);
        java.util.Map<String, Object> templateVariables = ChatTemplateOption.variables(chatTemplateKwargs);
        int layers = GpuLayers.parse(gpuLayers);
        if (where == SessionOptions.Device.CUDA && !precision.onCuda()) {
            throw new IllegalArgumentException("--device cuda keeps the KV cache in f16, q8_0 or q4_0, not "
                    + precision.llamaName());
        }
        if (slotSavePath != null) {
            java.nio.file.Files.createDirectories(slotSavePath);
        }
        Path model = source.resolve(err);
        if (!java.nio.file.Files.isRegularFile(model)) {
            throw new java.nio.file.NoSuchFileException(model.toString());
        }
        VellamaServer.ServerOptions options = VellamaServer.ServerOptions.defaults().withHost(host).withPort(port)
                .withApiKey(apiKey).withLog(line -> {
                    err.println(line);
                    err.flush();
                });
        CountDownLatch stopped = new CountDownLatch(1);
        try (VellamaServer server = VellamaServer.start(options)) {
            err.printf("vellama: listening on http://%s:%d (loading %s)%n", host, server.port(), model.getFileName());
            err.flush();
            boolean encoder;
            try (dev.vellama.gguf.GgufFile f = dev.vellama.gguf.GgufFile.open(model)) {
                encoder = dev.vellama.runtime.EncoderModel.isEncoder(f);
            }
            if (encoder) { // an embedding model: /v1/embeddings only, as llama-server --embedding
                try (dev.vellama.runtime.EncoderModel m = dev.vellama.runtime.EncoderModel.load(model,
                        threads > 0 ? threads : Runtime.getRuntime().availableProcessors())) {
                    String id = alias != null ? alias : model.getFileName().toString();
                    server.attachEncoder(m, id);
                    err.printf("vellama: serving %s for embeddings only (/v1/embeddings)%n", id);
                    err.flush();
                    drainOnExit(server, stopped, err);
                    stopped.await();
                }
                return 0;
            }
            try (Model m = Model.load(model)) {
                int ctx = contextSize > 0 ? contextSize : parallel * Math.min(4096, m.config().contextLength());
                BatchEngine.Options engineOptions = new BatchEngine.Options(parallel, ctx, batchSize, threads, queue, precision,
                        where, layers, contextShift);
                try (BatchEngine engine = new BatchEngine(m, engineOptions)) {
                    String id = alias != null ? alias : model.getFileName().toString();
                    var adapters = lora.load(m);
                    if (!adapters.isEmpty()) { // before the warm-up, which then runs with them too
                        engine.useAdapters(loraOff ? adapters.stream()
                                .map(x -> new dev.vellama.runtime.LoraAdapter.Applied(x.adapter(), 0f)).toList() : adapters);
                    }
                    if (!noWarmup) {
                        java.time.Duration took = engine.warmUp(WARMUP_TOKENS);
                        err.printf("vellama: warmed up in %.1f s%n", took.toMillis() / 1000.0);
                        err.flush();
                    }
                    server.suffixFirstInfill(spmInfill);
                    server.slotsEndpoint(slotsEndpoint);
                    server.slotSavePath(slotSavePath);
                    server.attach(engine, id, ChatTemplateOption.resolve(chatTemplate, templateVariables, m));
                    err.printf("vellama: serving %s: %d slot%s of %d tokens, %s%n", id, parallel, parallel == 1 ? "" : "s", engine.slotContext(),
                            engine.kernelDescription());
                    err.flush();
                    for (int i = 0; i < engine.adapters().size(); i++) { // the ids /lora-adapters and a request's lora use
                        var applied = engine.adapters().get(i);
                        err.printf(java.util.Locale.ROOT, "vellama: LoRA adapter %d: %s at scale %s%n", i,
                                applied.adapter().path().getFileName(), applied.scale());
                    }
                    err.flush();
                    drainOnExit(server, stopped, err);
                    stopped.await();
                }
            }
        }
        return 0;
    }
}
