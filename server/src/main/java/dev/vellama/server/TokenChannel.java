package dev.vellama.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.GeneratedToken;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;

/**
 * Carries what the engine thread produces for one HTTP request's choices to the request's own thread: the engine
 * only enqueues (it never waits on a client), the request thread takes events and writes them out.
 */
final class TokenChannel {
    /** One event for choice {@code index}: a token, the end (result) or a failure. */
    record Event(int index, GeneratedToken token, GenerationResult result, RuntimeException error) {}

    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();

    /** The listener of choice {@code index}. */
    BatchEngine.Listener listener(int index) {
        return new BatchEngine.Listener() {
            @Override
            public void onToken(GeneratedToken token) {
                events.add(new Event(index, token, null, null));
            }

            @Override
            public void onEnd(GenerationResult result) {
                events.add(new Event(index, null, result, null));
            }

            @Override
            public void onError(RuntimeException error) {
                events.add(new Event(index, null, null, error));
            }
        };
    }

    /** The next event; an engine that says nothing for this long has failed. */
    Event take(long timeoutSeconds) throws InterruptedException {
        Event e = events.poll(timeoutSeconds, TimeUnit.SECONDS);
        if (e == null) {
            throw new ApiException(500, "server_error", "timeout", null,
                    "the engine produced nothing for " + timeoutSeconds + " s");
        }
        return e;
    }

    /** The result of a request of one choice, skipping its tokens; its failure as a 500. */
    GenerationResult awaitResult(long timeoutSeconds) throws InterruptedException {
        while (true) {
            Event e = take(timeoutSeconds);
            if (e.error() != null) {
                throw new ApiException(500, "server_error", "engine_error", null, "generation failed: " + e.error().getMessage());
            }
            if (e.result() != null) {
                return e.result();
            }
        }
    }

    /**
     * Submits prompt i as choice i of this channel; when the engine refuses one, those already submitted are
     * cancelled and the refusal becomes the client's error naming {@code param}.
     */
    List<BatchEngine.Request> submit(BatchEngine engine, List<int[]> prompts, GenerationParams params, String param) {
        return submit(engine, prompts, params, param, -1, null);
    }

    /**
     * As {@link #submit(BatchEngine, List, GenerationParams, String)}, each prompt in slot {@code slot} (-1: any) with
     * LoRA scales of its own ({@code adapterScales}, null: the engine's).
     */
    List<BatchEngine.Request> submit(BatchEngine engine, List<int[]> prompts, GenerationParams params, String param, int slot,
            float[] adapterScales) {
        List<BatchEngine.Request> running = new ArrayList<>();
        try {
            for (int i = 0; i < prompts.size(); i++) {
                running.add(engine.submit(prompts.get(i), params, listener(i), slot, adapterScales));
            }
        } catch (RuntimeException e) {
            running.forEach(BatchEngine.Request::cancel);
            throw CompletionEndpoints.refusal(e, param);
        }
        return running;
    }

    /** Writing a request's answer, which may wait on the engine. */
    interface Answer {
        void write() throws InterruptedException;
    }

    /**
     * Writes an answer to running generations; if it fails or its thread is interrupted, they are cancelled (their
     * slots free at the next step) and a failure goes on to the route's error handler.
     */
    static void answer(List<BatchEngine.Request> running, Answer answer) {
        try {
            answer.write();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running.forEach(BatchEngine.Request::cancel);
        } catch (RuntimeException e) {
            running.forEach(BatchEngine.Request::cancel);
            throw e;
        }
    }
}
