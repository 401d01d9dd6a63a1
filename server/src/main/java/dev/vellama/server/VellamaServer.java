package dev.vellama.server;

import java.util.Objects;
import java.util.function.Consumer;

import dev.vellama.runtime.BatchEngine;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * An OpenAI-compatible HTTP server over a {@link BatchEngine}, on Helidon's WebServer (virtual threads, one per
 * request). It listens as soon as it starts, answering {@code /health} with 503 until {@link #attach} hands it the
 * loaded model's engine. Every request is checked in full before it reaches the engine; a bad one gets OpenAI's
 * error object and the right status, and never touches another request's slot.
 *
 * <pre>{@code
 * try (Model model = Model.load(path);
 *      BatchEngine engine = new BatchEngine(model, BatchEngine.Options.of(4, 8192));
 *      VellamaServer server = VellamaServer.start(ServerOptions.defaults().withPort(8080))) {
 *     server.attach(engine, "my-model");
 *     server.awaitShutdown();
 * }
 * }</pre>
 */
public final class VellamaServer implements AutoCloseable {
    /**
     * Helidon's own informational lines (features, channels bound) would interleave with the request log on
     * stderr; its warnings and errors still come through. Held here so the setting is not collected away.
     */
    private static final java.util.logging.Logger HELIDON_LOG = java.util.logging.Logger.getLogger("io.helidon");
    /** Its start failures come with a stack trace; {@link #start} reports them in one line instead. */
    private static final java.util.logging.Logger HELIDON_START_LOG = java.util.logging.Logger.getLogger("io.helidon.webserver.LoomServer");

    static {
        HELIDON_LOG.setLevel(java.util.logging.Level.WARNING);
        HELIDON_START_LOG.setLevel(java.util.logging.Level.OFF);
    }

    /** Largest request body read: chats with long histories fit, a stray upload does not. */
    private static final long MAX_BODY_BYTES = 16L << 20;

    private final ServerState state = new ServerState();
    private final ServerOptions options;
    private final WebServer server;

    private VellamaServer(ServerOptions options) {
        this.options = options;
        CompletionEndpoints completions = new CompletionEndpoints(state);
        EmbeddingEndpoint embeddings = new EmbeddingEndpoint(state);
        InfoEndpoints info = new InfoEndpoints(state);
        OllamaEndpoints ollama = new OllamaEndpoints(state, embeddings);
        LlamaServerEndpoints llama = new LlamaServerEndpoints(state);
        AnthropicEndpoints anthropic = new AnthropicEndpoints(state);
        ResponsesEndpoint responses = new ResponsesEndpoint(state);
        SlotEndpoints slots = new SlotEndpoints(state);
        AdapterEndpoints adapters = new AdapterEndpoints(state);
        RerankEndpoint rerank = new RerankEndpoint(state);
        this.server = WebServer.builder()
                // no stop on JVM exit behind our back: the owner drains first (running streams finish), then closes
                .shutdownHook(false)
                .host(options.host())
                .port(options.port())
                .maxPayloadSize(MAX_BODY_BYTES)
                .routing(r -> routing(r, completions, embeddings, info, ollama, llama, anthropic, responses, slots, adapters, rerank))
                .build();
    }

    /**
     * Starts listening (the port may be 0: a free one, see {@link #port()}).
     *
     * @param options where to listen, the API key and the request log
     * @return the running server, answering {@code /health} with 503 until a model is attached
     * @throws IllegalStateException when it cannot listen, such as on a port already in use
     */
    public static VellamaServer start(ServerOptions options) {
        VellamaServer s = new VellamaServer(Objects.requireNonNull(options));
        s.server.start();
        if (!s.server.isRunning() || s.server.port() < 0) {
            // Helidon logs why and stops itself; the caller gets one line it can show
            s.server.stop();
            throw new IllegalStateException("cannot listen on " + options.host() + ":" + options.port()
                    + " (is the port in use, or the address not this machine's?)");
        }
        return s;
    }

    /**
     * Serves {@code engine}'s model under {@code modelId} from now on, with the chat template from its GGUF file.
     *
     * @param engine  the loaded model's engine; it stays with the caller, who closes it after the server
     * @param modelId the model's name in {@code /v1/models} and in every response's {@code model} field
     */
    public void attach(BatchEngine engine, String modelId) {
        attach(engine, modelId, engine.model().chatTemplate());
    }

    /**
     * As {@link #attach(BatchEngine, String)}, rendering chats with {@code template} (llama.cpp's --chat-template).
     *
     * @param engine   the loaded model's engine; it stays with the caller, who closes it after the server
     * @param modelId  the model's name in {@code /v1/models} and in every response's {@code model} field
     * @param template how chat messages become a prompt, in place of the model's own
     */
    public void attach(BatchEngine engine, String modelId, dev.vellama.runtime.chat.ChatTemplate template) {
        state.attach(Objects.requireNonNull(engine), Objects.requireNonNull(modelId), Objects.requireNonNull(template));
    }

    /**
     * Lays {@code /infill} prompts out suffix first, for models trained in that order (llama-server's
     * {@code --spm-infill}); prefix first otherwise, the default.
     *
     * @param suffixFirst whether the suffix comes before the prefix
     */
    public void suffixFirstInfill(boolean suffixFirst) {
        state.suffixFirstInfill = suffixFirst;
    }

    /**
     * Whether {@code GET /slots} answers (llama-server's {@code --slots}, on by default; {@code --no-slots} turns it
     * off, and it then answers 501).
     *
     * @param on whether to serve it
     */
    public void slotsEndpoint(boolean on) {
        state.slotsEndpoint = on;
    }

    /**
     * The directory where {@code POST /slots/{id}?action=save|restore} keep their files (llama-server's
     * {@code --slot-save-path}); without one those actions answer 501.
     *
     * @param dir an existing directory, or null to turn saving off
     * @throws IllegalArgumentException when {@code dir} is not a directory
     */
    public void slotSavePath(java.nio.file.Path dir) {
        if (dir != null && !java.nio.file.Files.isDirectory(dir)) {
            throw new IllegalArgumentException("the slot save path " + dir + " is not a directory");
        }
        state.slotSavePath = dir == null ? null : dir.toAbsolutePath();
    }

    /**
     * Starts serving an embedding model (BERT, nomic-bert): {@code /v1/embeddings} and the info routes, and
     * {@code /v1/rerank} when the model is a reranker ({@link dev.vellama.runtime.EncoderModel#ranks}).
     *
     * @param encoder the loaded embedding model; it stays with the caller
     * @param modelId the model's name in {@code /v1/models} and in every response's {@code model} field
     */
    public void attachEncoder(dev.vellama.runtime.EncoderModel encoder, String modelId) {
        state.attachEncoder(Objects.requireNonNull(encoder), Objects.requireNonNull(modelId));
    }

    /** {@return the port it listens on, the one chosen when the options asked for 0} */
    public int port() {
        return server.port();
    }

    /**
     * Blocks until the server stops (or the thread is interrupted).
     *
     * @throws InterruptedException when the waiting thread is interrupted
     */
    public void awaitShutdown() throws InterruptedException {
        while (server.isRunning()) {
            Thread.sleep(200);
        }
    }

    private void routing(HttpRouting.Builder r, CompletionEndpoints completions, EmbeddingEndpoint embeddings, InfoEndpoints info,
            OllamaEndpoints ollama, LlamaServerEndpoints llama, AnthropicEndpoints anthropic, ResponsesEndpoint responses,
            SlotEndpoints slots, AdapterEndpoints adapters, RerankEndpoint rerank) {
        r.addFilter((chain, req, res) -> {
            long t0 = System.nanoTime();
            RequestLog log = new RequestLog();
            req.context().register(log);
            state.inFlight.incrementAndGet();
            // the routing key a load balancer hashes on, echoed so a client (and a test) sees which key it sent
            req.headers().first(SESSION_ID).ifPresent(id -> res.header(SESSION_ID, id));
            try {
                String path = req.path().path();
                if (state.draining && !path.equals("/health") && !path.equals("/v1/health") && !path.equals("/metrics")) {
                    Responses.sendError(req, res, new ApiException(503, "unavailable_error", "shutting_down", null,
                            "the server is shutting down; retry on another replica"));
                } else if (authorized(req)) {
                    chain.proceed();
                } else {
                    Responses.sendError(req, res, new ApiException(401, "invalid_request_error", "invalid_api_key", null,
                            "a valid API key is required: send 'Authorization: Bearer KEY'"));
                }
            } finally {
                int status = res.status().code();
                state.metrics.answered(status);
                options.log().accept(String.format("%s %s %d %d tokens %d ms%s", req.prologue().method().text(),
                        req.path().path(), status, log.tokens(), (System.nanoTime() - t0) / 1_000_000,
                        log.wasDisconnected() ? " (client disconnected)" : ""));
                state.inFlight.decrementAndGet();
            }
        });
        r.get("/health", info::health)
                .get("/v1/health", info::health)
                .get("/v1/models", info::models)
                .get("/models", info::models)
                .get("/v1/models/*", info::model) // an id may hold slashes (--alias org/name)
                .get("/models/*", info::model)
                .get("/metrics", info::metrics)
                .post("/v1/chat/completions", completions::chat)
                .post("/chat/completions", completions::chat)
                .post("/v1/completions", completions::completions)
                .post("/completions", completions::completions)
                .post("/v1/embeddings", embeddings::embeddings)
                .post("/embeddings", embeddings::embeddings)
                .post("/v1/rerank", rerank::rerank)
                .post("/rerank", rerank::rerank)
                .post("/v1/reranking", rerank::rerank)
                .post("/reranking", rerank::rerank)
                .post("/tokenize", info::tokenize)
                .post("/detokenize", info::detokenize)
                // llama-server's native completion and its settings
                .post("/completion", llama::completion)
                .post("/infill", llama::infill)
                .post("/apply-template", completions::applyTemplate)
                .post("/v1/messages", anthropic::messages)
                .post("/v1/responses", responses::create)
                .post("/responses", responses::create)
                .get("/v1/responses/{id}", responses::retrieve)
                .delete("/v1/responses/{id}", responses::delete)
                .post("/v1/messages/count_tokens", anthropic::countTokens)
                .get("/props", llama::props)
                .get("/slots", slots::list)
                .post("/slots/{id}", slots::action)
                .get("/lora-adapters", adapters::list)
                .post("/lora-adapters", adapters::set)
                // ollama's API (docs/server.md, "Ollama's API")
                .post("/api/chat", ollama::chat)
                .post("/api/generate", ollama::generate)
                .post("/api/embed", ollama::embed)
                .post("/api/embeddings", ollama::embeddings)
                .get("/api/tags", ollama::tags)
                .get("/api/ps", ollama::ps)
                .post("/api/show", ollama::show)
                .get("/api/version", ollama::version)
                .head("/", (req, res) -> res.send())
                .get("/", (req, res) -> res.send("Vellama is running"))
                .any(VellamaServer::notFound)
                .error(ApiException.class, (req, res, e) -> {
                    if (!res.isSent()) {
                        Responses.sendError(req, res, e);
                    }
                })
                .error(RuntimeException.class, (req, res, e) -> {
                    if (!res.isSent()) {
                        Responses.sendError(req, res, new ApiException(500, "server_error", "internal_error", null,
                                "the server failed on this request: " + e));
                    }
                });
    }

    /** With {@code --api-key} every route but the health check needs it as a bearer token. */
    private boolean authorized(ServerRequest req) {
        if (options.apiKey() == null) {
            return true;
        }
        String path = req.path().path();
        if (path.equals("/health") || path.equals("/v1/health")) {
            return true;
        }
        String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        // Anthropic's clients send the key as x-api-key, which llama-server accepts too
        return header.equals("Bearer " + options.apiKey()) || req.headers().first(API_KEY).orElse("").equals(options.apiKey());
    }

    private static void notFound(ServerRequest req, ServerResponse res) {
        Responses.sendError(req, res, new ApiException(404, "invalid_request_error", "not_found", null,
                "no such endpoint: " + req.prologue().method().text() + " " + req.path().path()));
    }

    /** The header a load balancer can hash on to keep a conversation on the replica that holds its prefix. */
    public static final String SESSION_ID_HEADER = "X-Session-Id";
    private static final io.helidon.http.HeaderName SESSION_ID = HeaderNames.create(SESSION_ID_HEADER);
    private static final io.helidon.http.HeaderName API_KEY = HeaderNames.create("x-api-key");

    /**
     * Prepares to stop: from now on {@code /health} answers 503 and new requests get a 503 OpenAI error (a load
     * balancer's health check takes the server out of rotation and a client retries elsewhere), while the
     * requests already running, streams included, finish. Returns when none is left or after {@code limit}.
     *
     * @param limit the longest wait for running requests
     * @return true when every running request finished within the limit
     * @throws InterruptedException when the waiting thread is interrupted
     */
    public boolean drain(java.time.Duration limit) throws InterruptedException {
        state.draining = true;
        long deadline = System.nanoTime() + limit.toNanos();
        while (state.inFlight.get() > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Stops listening; the engine and model stay with their owner. */
    @Override
    public void close() {
        server.stop();
    }

    /**
     * Where and how the server listens.
     *
     * @param host   the address to bind, such as {@code 127.0.0.1} for this machine only or {@code 0.0.0.0} for all
     * @param port   the TCP port, 0 to 65535; 0 picks a free one
     * @param apiKey the bearer token every route but the health check requires; null for none
     * @param log    receives one line per request
     */
    public record ServerOptions(String host, int port, String apiKey, Consumer<String> log) {
        /**
         * Checks the options.
         *
         * @throws NullPointerException when {@code host} or {@code log} is null
         * @throws IllegalArgumentException when the port is out of range or the API key is blank
         */
        public ServerOptions {
            Objects.requireNonNull(host);
            Objects.requireNonNull(log);
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("the port must lie between 0 and 65535, not " + port);
            }
            if (apiKey != null && apiKey.isBlank()) {
                throw new IllegalArgumentException("an API key must not be blank");
            }
        }

        /** {@return 127.0.0.1:8080, no key, request lines to standard error} */
        public static ServerOptions defaults() {
            return new ServerOptions("127.0.0.1", 8080, null, System.err::println);
        }

        /**
         * A copy listening on another address.
         *
         * @param h the address to bind, such as {@code 0.0.0.0} for all interfaces
         * @return the new options
         */
        public ServerOptions withHost(String h) {
            return new ServerOptions(h, port, apiKey, log);
        }

        /**
         * A copy listening on another port.
         *
         * @param p the TCP port, 0 to 65535; 0 picks a free one
         * @return the new options
         * @throws IllegalArgumentException when the port is out of range
         */
        public ServerOptions withPort(int p) {
            return new ServerOptions(host, p, apiKey, log);
        }

        /**
         * A copy that requires an API key (llama.cpp's --api-key).
         *
         * @param k the bearer token clients must send; null for none
         * @return the new options
         * @throws IllegalArgumentException when the key is blank
         */
        public ServerOptions withApiKey(String k) {
            return new ServerOptions(host, port, k, log);
        }

        /**
         * A copy that sends request lines elsewhere.
         *
         * @param l receives one line per request: method, path, status, tokens and time
         * @return the new options
         */
        public ServerOptions withLog(Consumer<String> l) {
            return new ServerOptions(host, port, apiKey, l);
        }
    }
}
