package dev.vellama.server;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.vellama.testdata.TestData;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;

/**
 * The trained stories model behind a server on a free loopback port, and what the same requests give alone
 * through a {@link Session}, to compare with.
 */
final class ServerFixture implements AutoCloseable {
    static final String MODEL_FILE = "stories-llama2-q8_0.gguf";
    static final String KEY = "test-key";

    final Model model;
    final BatchEngine engine;
    final VellamaServer server;
    final List<String> log = new CopyOnWriteArrayList<>();

    ServerFixture(int slots, int context, int queue, String apiKey) throws IOException {
        this(MODEL_FILE, slots, context, queue, apiKey);
    }

    ServerFixture(String modelFile, int slots, int context, int queue, String apiKey) throws IOException {
        model = Model.load(TestData.model(modelFile));
        engine = new BatchEngine(model, BatchEngine.Options.of(slots, context).withThreads(2).withQueueLimit(queue));
        server = VellamaServer.start(VellamaServer.ServerOptions.defaults().withPort(0).withApiKey(apiKey).withLog(log::add));
        server.attach(engine, modelFile);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.port();
    }

    /** The greedy text of {@code prompt} (token ids) from a session of its own. */
    String alone(int[] prompt, int maxTokens) {
        try (Session s = model.newSession(SessionOptions.defaults().withContextSize(engine.slotContext()).withThreads(2))) {
            return s.generate(prompt, GenerationParams.greedy().withMaxTokens(maxTokens), null).text();
        }
    }

    @Override
    public void close() {
        server.close();
        engine.close();
        model.close();
    }
}
