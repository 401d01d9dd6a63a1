package dev.vellama.server;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.GeneratedToken;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.InfillPrompt;
import dev.vellama.runtime.StopReason;
import dev.vellama.runtime.Timings;
import dev.vellama.runtime.TokenLogprob;
import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.runtime.tokenizer.FillInMiddleTokens;
import dev.vellama.runtime.tokenizer.Tokenizer;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.sse.SseSink;

/**
 * llama-server's own routes beside the OpenAI ones: {@code POST /completion} (its native completion: {@code prompt},
 * its sampling fields, {@code n_probs}, {@code stream} as Server-Sent Events without a {@code [DONE]}, and its
 * answer shape with {@code content}, {@code stop_type} and {@code timings}), and {@code GET /props} (the defaults
 * and context a client of llama-server reads before it asks). Requests go through the same slots and checks.
 */
final class LlamaServerEndpoints {
    /** Longest the engine may stay silent on a running request before the request fails. */
    private static final long ENGINE_SILENCE_SECONDS = 600;

    private final ServerState state;

    LlamaServerEndpoints(ServerState state) {
        this.state = state;
    }

    /** {@code POST /completion}: one prompt (text or token ids), llama-server's fields, its answer shape. */
    void completion(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        Json j = Json.parse(Json.body(req));
        List<int[]> prompts = CompletionEndpoints.prompts(j, engine);
        if (prompts.size() != 1) {
            throw ApiException.badField("prompt", "'prompt' must be one string or one list of token ids here "
                    + "(several prompts go to /v1/completions)");
        }
        answer(req, res, j, prompts);
    }

    /**
     * {@code POST /infill}: code infill (fill-in-the-middle). {@code input_prefix} and {@code input_suffix} (the
     * text around the gap), {@code input_extra} (other files as {@code {filename, text}}) and {@code prompt} (the
     * gap's start) are laid out as llama-server lays them out ({@link InfillPrompt}); the rest is
     * {@code /completion}. A model without fill-in-the-middle tokens answers 501, as llama-server does.
     */
    void infill(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        Tokenizer tokenizer = engine.model().tokenizer();
        FillInMiddleTokens fim = tokenizer.fillInMiddle();
        if (!fim.supported()) {
            throw new ApiException(501, "not_supported_error", "not_supported", null, "infill is not supported by this model: its "
                    + "vocabulary has no " + (fim.prefix() < 0 ? "prefix " : "") + (fim.suffix() < 0 ? "suffix " : "")
                    + (fim.middle() < 0 ? "middle " : "") + "token");
        }
        Json j = Json.parse(Json.body(req));
        if (!j.has("input_prefix")) {
            throw ApiException.badField("input_prefix", "'input_prefix' is required");
        }
        if (!j.has("input_suffix")) {
            throw ApiException.badField("input_suffix", "'input_suffix' is required");
        }
        String prefix = j.string("input_prefix", "");
        String suffix = j.string("input_suffix", "");
        String start = j.string("prompt", "");
        List<InfillPrompt.ExtraFile> extra = new ArrayList<>();
        JsonNode files = j.node("input_extra");
        if (files != null) {
            if (!files.isArray()) {
                throw ApiException.badField("input_extra", "'input_extra' must be a list of {\"filename\": string, \"text\": string}");
            }
            for (int i = 0; i < files.size(); i++) {
                JsonNode f = files.get(i);
                JsonNode text = f.get("text");
                JsonNode name = f.get("filename");
                if (text == null || !text.isTextual()) {
                    throw ApiException.badField("input_extra[" + i + "].text", "each 'input_extra' entry needs a string 'text'");
                }
                if (name != null && !name.isNull() && !name.isTextual()) {
                    throw ApiException.badField("input_extra[" + i + "].filename", "'filename' must be a string");
                }
                extra.add(new InfillPrompt.ExtraFile(name == null || name.isNull() ? "tmp" : name.asText(), text.asText()));
            }
        }
        InfillPrompt.Limits limits = new InfillPrompt.Limits(engine.batchSize(), -1, engine.slotContext(), state.suffixFirstInfill, true);
        int[] prompt = new InfillPrompt(prefix, suffix, extra, start).tokens(tokenizer, limits);
        answer(req, res, j, List.of(prompt));
    }

    /** Generates for one prompt with the request's llama-server fields and answers in llama-server's shape. */
    private void answer(ServerRequest req, ServerResponse res, Json j, List<int[]> prompts) {
        BatchEngine engine = state.engine();
        int probs = (int) j.integer("n_probs", 0, 20, 0);
        GenerationParams sampled = SamplingFields.read(j, probs, engine.model().config().vocabSize()).withLogprobs(probs > 0);
        Grammar shape = StructuredOutputFields.read(j, state.grammars);
        GenerationParams params = shape == null ? sampled : sampled.withGrammar(shape);
        j.bool("cache_prompt", true); // checked; a slot always keeps its prompt for the next request
        boolean stream = j.bool("stream", false);
        // llama-server's slot choice: -1 the free slot that holds the longest beginning of the prompt
        int slot = (int) j.integer("id_slot", -1, engine.slotCount() - 1, -1);
        int[] prompt = prompts.getFirst();
        TokenChannel channel = new TokenChannel();
        List<BatchEngine.Request> running = channel.submit(engine, prompts, params, "prompt", slot,
                AdapterEndpoints.requestScales(j, engine));
        Tokenizer tokenizer = engine.model().tokenizer();
        TokenChannel.answer(running, () -> {
            if (stream) {
                stream(req, res, channel, running.getFirst(), prompt, params, probs, tokenizer);
            } else {
                GenerationResult r = channel.awaitResult(ENGINE_SILENCE_SECONDS);
                RequestLog.of(req).tokens(r.promptTokens().length + r.tokens().size());
                ObjectNode o = last(r, r.text(), params, tokenizer, running.getFirst().slot());
                if (probs > 0) {
                    ArrayNode list = o.putArray("completion_probabilities");
                    for (GeneratedToken t : r.tokens()) {
                        probabilities(list, t, tokenizer);
                    }
                }
                Responses.sendJson(res, 200, o);
            }
        });
    }

    private void stream(ServerRequest req, ServerResponse res, TokenChannel channel, BatchEngine.Request running,
            int[] prompt, GenerationParams params, int probs, Tokenizer tokenizer) throws InterruptedException {
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        SseSink sink = res.sink(SseSink.TYPE);
        int predicted = 0;
        try {
            while (true) {
                TokenChannel.Event e = channel.take(ENGINE_SILENCE_SECONDS);
                if (e.error() != null) {
                    CompletionEndpoints.emit(sink, Responses.error(500, "server_error", "engine_error", null, "generation failed: " + e.error().getMessage()));
                    running.cancel();
                    return;
                }
                if (e.token() != null) {
                    GeneratedToken t = e.token();
                    predicted++;
                    if (t.text().isEmpty() && probs == 0) {
                        continue;
                    }
                    ObjectNode o = Json.MAPPER.createObjectNode();
                    o.put("index", 0);
                    o.put("content", t.text());
                    o.putArray("tokens").add(t.id());
                    o.put("stop", false);
                    o.put("id_slot", running.slot());
                    o.put("tokens_predicted", predicted);
                    o.put("tokens_evaluated", prompt.length);
                    if (probs > 0 && t.id() >= 0) {
                        probabilities(o.putArray("completion_probabilities"), t, tokenizer);
                    }
                    CompletionEndpoints.emit(sink, o);
                    continue;
                }
                GenerationResult r = e.result();
                CompletionEndpoints.emit(sink, last(r, "", params, tokenizer, running.slot()));
                RequestLog.of(req).tokens(r.promptTokens().length + r.tokens().size());
                return;
            }
        } catch (ClientGone gone) {
            running.cancel();
            RequestLog.of(req).tokens(prompt.length + predicted).disconnected();
        } finally {
            CompletionEndpoints.close(sink);
        }
    }

    /** The whole answer, or a stream's last event: the text, why it stopped, the counts and timings. */
    private ObjectNode last(GenerationResult r, String content, GenerationParams params, Tokenizer tokenizer, int slot) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("index", 0);
        o.put("content", content);
        ArrayNode ids = o.putArray("tokens");
        if (!content.isEmpty()) {
            for (GeneratedToken t : r.tokens()) {
                if (t.id() >= 0) {
                    ids.add(t.id());
                }
            }
        }
        o.put("id_slot", slot);
        o.put("stop", true);
        o.put("model", state.modelId());
        o.put("tokens_predicted", r.tokens().size());
        o.put("tokens_evaluated", r.promptTokens().length);
        o.set("generation_settings", settings(params));
        o.put("prompt", tokenizer.decode(r.promptTokens()));
        o.put("has_new_line", r.text().contains("\n"));
        o.put("truncated", false);
        o.put("stop_type", switch (r.stopReason()) {
            case EOS -> "eos";
            case STOP -> "word";
            case LENGTH, CONTEXT -> "limit";
            case CANCELLED, GRAMMAR -> "none";
        });
        o.put("stopping_word", r.stopReason() == StopReason.STOP && params.stop().size() == 1 ? params.stop().getFirst() : "");
        o.put("tokens_cached", r.promptTokens().length + r.tokens().size());
        o.set("timings", timings(r));
        return o;
    }

    /**
     * llama-server's {@code timings} of a generation: prompt tokens taken from the slot's cache ({@code cache_n}) and
     * evaluated ({@code prompt_n}), generated tokens, their milliseconds and speeds.
     */
    static ObjectNode timings(GenerationResult r) {
        Timings t = r.timings();
        ObjectNode timings = Json.MAPPER.createObjectNode();
        double promptMs = t == null ? 0 : t.promptNanos() / 1e6;
        double predictedMs = t == null ? 0 : t.generationNanos() / 1e6;
        int promptN = t == null ? r.promptTokens().length : t.promptTokens();
        int predictedN = r.tokens().size();
        timings.put("cache_n", CompletionEndpoints.cachedPromptTokens(r));
        timings.put("prompt_n", promptN);
        timings.put("prompt_ms", promptMs);
        timings.put("prompt_per_token_ms", promptN == 0 ? 0 : promptMs / promptN);
        timings.put("prompt_per_second", promptMs == 0 ? 0 : promptN * 1000 / promptMs);
        timings.put("predicted_n", predictedN);
        timings.put("predicted_ms", predictedMs);
        timings.put("predicted_per_token_ms", predictedN == 0 ? 0 : predictedMs / predictedN);
        timings.put("predicted_per_second", predictedMs == 0 ? 0 : predictedN * 1000 / predictedMs);
        return timings;
    }

    /** A token's entry of {@code completion_probabilities}: {id, token, bytes, logprob, top_logprobs}. */
    private static void probabilities(ArrayNode list, GeneratedToken t, Tokenizer tokenizer) {
        ObjectNode e = CompletionEndpoints.tokenEntry(list.addObject().put("id", t.id()), t.id(), t.logprob(), tokenizer);
        ArrayNode top = e.putArray("top_logprobs");
        for (TokenLogprob alt : t.topLogprobs()) {
            CompletionEndpoints.tokenEntry(top.addObject().put("id", alt.id()), alt.id(), alt.logprob(), tokenizer);
        }
    }

    /** The sampling a request ran with, in llama-server's names. */
    static ObjectNode settings(GenerationParams p) {
        ObjectNode s = Json.MAPPER.createObjectNode();
        s.put("n_predict", p.maxTokens());
        s.put("temperature", p.temperature());
        s.put("top_k", p.topK());
        s.put("top_p", p.topP());
        s.put("min_p", p.minP());
        s.put("typical_p", p.typicalP());
        s.put("repeat_penalty", p.repeatPenalty());
        s.put("repeat_last_n", p.repeatLastN());
        s.put("presence_penalty", p.presencePenalty());
        s.put("frequency_penalty", p.frequencyPenalty());
        s.put("mirostat", p.mirostat().version());
        s.put("mirostat_tau", p.mirostat().tau());
        s.put("mirostat_eta", p.mirostat().eta());
        s.put("xtc_probability", p.xtc().probability());
        s.put("xtc_threshold", p.xtc().threshold());
        s.put("dry_multiplier", p.dry().multiplier());
        if (p.seed() != null) {
            s.put("seed", p.seed());
        } else {
            s.put("seed", 0xFFFFFFFFL); // llama.cpp's "a new seed each time"
        }
        ArrayNode stop = s.putArray("stop");
        p.stop().forEach(stop::add);
        s.put("ignore_eos", p.ignoreEos());
        return s;
    }

    /**
     * {@code GET /props}: the default settings and each slot's context ({@code default_generation_settings.n_ctx}),
     * the slots, the model file and its chat template, as llama-server answers.
     */
    void props(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode defaults = o.putObject("default_generation_settings");
        defaults.put("n_ctx", engine.slotContext());
        defaults.set("params", settings(GenerationParams.defaults()));
        o.put("total_slots", engine.slotCount());
        var path = engine.model().file().path();
        o.put("model_path", path == null ? state.modelId() : path.toString());
        o.put("model_alias", state.modelId());
        o.put("chat_template", state.template() == null ? "" : state.template().source().orElse(""));
        o.put("bos_token", state.template() == null ? "" : state.template().bosToken());
        o.put("eos_token", state.template() == null ? "" : state.template().eosToken());
        o.putObject("modalities").put("vision", false).put("audio", false);
        o.put("build_info", "vellama");
        Responses.sendJson(res, 200, o);
    }
}
