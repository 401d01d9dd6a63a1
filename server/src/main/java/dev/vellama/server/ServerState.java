package dev.vellama.server;

import java.time.Instant;

import dev.vellama.runtime.BatchEngine;

/**
 * What the endpoints share: the engine once the model is loaded (null while loading), the model's public id, and
 * the HTTP counters.
 */
final class ServerState {
    private volatile BatchEngine engine;
    private volatile dev.vellama.runtime.EncoderModel encoder;
    private volatile String modelId = "";
    private volatile dev.vellama.runtime.chat.ChatTemplate template;
    final long created = Instant.now().getEpochSecond();
    final ServerMetrics metrics = new ServerMetrics();
    final GrammarCache grammars = new GrammarCache();
    /** The Responses API's stored responses, the last {@value #STORED_RESPONSES}. */
    final ResponseStore responses = new ResponseStore(STORED_RESPONSES);
    static final int STORED_RESPONSES = 256;
    /** Whether {@code /infill} puts the suffix before the prefix ({@link VellamaServer#suffixFirstInfill}). */
    volatile boolean suffixFirstInfill;
    /** Whether {@code GET /slots} answers ({@link VellamaServer#slotsEndpoint}). */
    volatile boolean slotsEndpoint = true;
    /** Where {@code /slots/{id}?action=save|restore} keep their files; null: they answer 501. */
    volatile java.nio.file.Path slotSavePath;
    /** Set by {@link VellamaServer#drain}: health says 503 and new work is refused while running requests finish. */
    volatile boolean draining;
    /** Requests being answered now, health checks and refusals included (the drain waits for them). */
    final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();

    void attach(BatchEngine engine, String modelId, dev.vellama.runtime.chat.ChatTemplate template) {
        this.modelId = modelId;
        this.template = template;
        this.engine = engine;
    }

    /** The template chats are rendered with: the model's own unless the server was given another. */
    dev.vellama.runtime.chat.ChatTemplate template() {
        return template;
    }

    /** Serves an embedding model (BERT and its kin): only {@code /v1/embeddings} and the info routes answer. */
    void attachEncoder(dev.vellama.runtime.EncoderModel encoder, String modelId) {
        this.modelId = modelId;
        this.encoder = encoder;
    }

    /** The embedding-only model, or null when a generative one is served. */
    dev.vellama.runtime.EncoderModel encoder() {
        return encoder;
    }

    /** The served model's tokenizer (either kind); a 503 while loading. */
    dev.vellama.runtime.tokenizer.Tokenizer tokenizer() {
        dev.vellama.runtime.EncoderModel e = encoder;
        return e != null ? e.tokenizer() : engine().model().tokenizer();
    }

    boolean ready() {
        return engine != null || encoder != null;
    }

    /** The engine; a 503 while the model is still loading. */
    BatchEngine engine() {
        BatchEngine e = engine;
        if (e == null && encoder != null) {
            throw new ApiException(400, "invalid_request_error", "model_not_generative", null, "the model " + modelId
                    + (encoder.ranks() ? " is a reranker: it answers /v1/rerank and /v1/embeddings only"
                            : " is an embedding model: it answers /v1/embeddings only"));
        }
        if (e == null) {
            throw new ApiException(503, "server_error", "loading", null, "the model is still loading; try again shortly");
        }
        return e;
    }

    String modelId() {
        return modelId;
    }
}
