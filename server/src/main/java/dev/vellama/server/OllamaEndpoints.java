package dev.vellama.server;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufValue;
import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.GeneratedToken;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.ModelQuantizer;
import dev.vellama.runtime.StopReason;
import dev.vellama.runtime.Timings;
import dev.vellama.VellamaException;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.ChatTemplateException;
import dev.vellama.runtime.chat.ReasoningFormat;
import dev.vellama.runtime.chat.ReasoningSplitter;
import dev.vellama.runtime.chat.Tool;
import dev.vellama.runtime.chat.ToolCall;
import dev.vellama.runtime.chat.ToolCallFormat;
import dev.vellama.runtime.chat.ToolChoice;
import dev.vellama.runtime.grammar.Grammar;
import dev.vellama.runtime.tokenizer.Tokenizer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Ollama's API over the same engine, so that clients written for ollama (its libraries, LangChain4j's and Spring
 * AI's Ollama models, chat front ends) work unchanged: {@code POST /api/chat}, {@code POST /api/generate}, {@code
 * POST /api/embed} and the older {@code /api/embeddings}, {@code GET /api/tags}, {@code GET /api/ps}, {@code POST
 * /api/show} and {@code GET /api/version}. Answers stream as newline-delimited JSON unless {@code stream} is false
 * (ollama streams by default); errors are ollama's {@code {"error": "..."}}. Whatever {@code model} a request
 * names, the one model the server holds answers (as on the OpenAI routes). Requests go through the same slots,
 * checks and limits as the OpenAI routes; what differs is only the shape of the JSON.
 */
final class OllamaEndpoints {
    /** Longest the engine may stay silent on a running request before the request fails. */
    private static final long ENGINE_SILENCE_SECONDS = 600;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_OFFSET_DATE_TIME.withZone(ZoneOffset.UTC);

    private final ServerState state;
    private final EmbeddingEndpoint embeddings;
    private final String version;

    OllamaEndpoints(ServerState state, EmbeddingEndpoint embeddings) {
        this.state = state;
        this.embeddings = embeddings;
        this.version = readVersion();
    }

    /** What to send back and how: chat messages or generated text, streamed or whole. */
    private record Job(boolean chat, int[] prompt, GenerationParams params, boolean stream, ToolCallFormat tools,
                       boolean mustCall, ReasoningFormat reasoning, boolean thinkingApart) {
        ReasoningSplitter splitter(Tokenizer tokenizer) {
            return PreparedChat.splitter(reasoning, prompt, tokenizer);
        }
    }

    // ---- generation

    /** {@code POST /api/chat}: {@code messages}, {@code tools}, {@code format}, {@code options}, {@code stream}, {@code think}. */
    void chat(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        Json j = Json.parse(Json.body(req));
        List<ChatMessage> messages = messages(j);
        List<Tool> tools = CompletionEndpoints.tools(j);
        ToolChoice choice = tools.isEmpty() ? ToolChoice.NONE : ToolChoice.AUTO;
        GenerationParams params = OllamaOptions.read(j.object("options"));
        Grammar shape = format(j);
        PreparedChat chat = PreparedChat.of(state, engine.model(), messages, tools, choice, j.node("tools"), shape, params,
                thinkVariables(j));
        boolean apart = thinks(j);
        run(req, res, new Job(true, chat.prompt(), chat.params(), j.bool("stream", true), chat.format(), choice.forcesCall(),
                PreparedChat.reasoning(state.template(), apart), apart));
    }

    /**
     * {@code POST /api/generate}: {@code prompt} rendered as a user turn (after {@code system}) with the model's
     * chat template, or as it is with {@code raw}; an empty prompt only answers that the model is loaded.
     */
    void generate(ServerRequest req, ServerResponse res) {
        BatchEngine engine = state.engine();
        Json j = Json.parse(Json.body(req));
        String text = j.string("prompt", "");
        String system = j.string("system", null);
        boolean raw = j.bool("raw", false);
        refuseImages(j.node("images"), "images");
        String suffix = j.string("suffix", "");
        if (j.has("template")) {
            throw ApiException.badField("template", "'template' is not supported: the server renders with the model's "
                    + "chat template (or the one given to `vellama serve --chat-template`); send 'raw': true to render yourself");
        }
        JsonNode context = j.node("context");
        if (context != null && !(context.isArray() && context.isEmpty())) {
            throw ApiException.badField("context", "'context' is not supported: send the conversation to /api/chat, "
                    + "or the whole prompt with 'raw': true");
        }
        GenerationParams params = OllamaOptions.read(j.object("options"));
        Grammar shape = format(j);
        if (shape != null) {
            params = params.withGrammar(shape);
        }
        boolean stream = j.bool("stream", true);
        if (text.isEmpty() && system == null && suffix.isEmpty()) {
            // ollama's way to load a model: nothing to generate, the model is here
            ObjectNode o = envelope();
            o.put("response", "");
            o.put("done", true);
            o.put("done_reason", "load");
            Responses.sendJson(res, 200, o);
            return;
        }
        int[] prompt;
        if (!suffix.isEmpty()) {
            if (raw || system != null) {
                throw ApiException.badField("suffix", "'suffix' goes with neither 'raw' nor 'system'");
            }
            prompt = CompletionEndpoints.insertPrompt(engine, text, suffix);
        } else if (raw) {
            prompt = engine.model().completionPrompt(text);
        } else {
            List<ChatMessage> messages = new ArrayList<>();
            if (system != null) {
                messages.add(ChatMessage.system(system));
            }
            messages.add(ChatMessage.user(text));
            try {
                prompt = engine.model().chatPrompt(messages, state.template(), thinkVariables(j), "");
            } catch (ChatTemplateException e) {
                throw ApiException.badField("prompt", "the model's chat template refused the prompt: " + e.getMessage());
            }
        }
        boolean apart = thinks(j) && !raw && suffix.isEmpty();
        // as on /api/chat: a rendered chat's reasoning is read apart when asked, and harmony's channels always
        ReasoningFormat reasoning = raw || !suffix.isEmpty() ? ReasoningFormat.NONE : PreparedChat.reasoning(state.template(), apart);
        run(req, res, new Job(false, prompt, params, stream, null, false, reasoning, apart));
    }

    /** {@code format}: {@code "json"} (any JSON object) or a JSON Schema; absent or empty for free text. */
    private Grammar format(Json j) {
        JsonNode f = j.node("format");
        if (f == null || f.isTextual() && f.asText().isEmpty()) {
            return null;
        }
        if (f.isTextual() && f.asText().equals("json")) {
            return Grammar.jsonObject();
        }
        if (f.isObject()) {
            return StructuredOutputFields.schema("format", f, state.grammars);
        }
        throw ApiException.badField("format", "'format' must be \"json\" or a JSON Schema object");
    }

    /** {@code think}: true, false, or a level ("low", "medium", "high") that gpt-oss's template reads. */
    private static boolean thinks(Json j) {
        JsonNode t = j.node("think");
        if (t == null) {
            return false;
        }
        if (t.isBoolean()) {
            return t.asBoolean();
        }
        if (t.isTextual() && List.of("low", "medium", "high").contains(t.asText())) {
            return true;
        }
        throw ApiException.badField("think", "'think' must be true, false, \"low\", \"medium\" or \"high\"");
    }

    /** The template variables {@code think} sets: Qwen 3's {@code enable_thinking}, gpt-oss's {@code reasoning_effort}. */
    private static Map<String, Object> thinkVariables(Json j) {
        Map<String, Object> v = new HashMap<>();
        if (j.has("think")) {
            boolean on = thinks(j);
            v.put("enable_thinking", on);
            JsonNode t = j.node("think");
            if (t.isTextual()) {
                v.put("reasoning_effort", t.asText());
            }
        }
        return v;
    }

    /**
     * {@code messages}: {@code {role, content, tool_calls, tool_name}}; a tool call's {@code arguments} are an object
     * (ollama's shape) or a string. Images are refused: no model here reads them.
     */
    private static List<ChatMessage> messages(Json j) {
        JsonNode list = j.node("messages");
        List<ChatMessage> out = new ArrayList<>();
        if (list == null) {
            return out;
        }
        if (!list.isArray()) {
            throw ApiException.badField("messages", "'messages' must be a list of messages");
        }
        int calls = 0;
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String at = "messages[" + i + "]";
            String role = CompletionEndpoints.role(m, at);
            JsonNode content = m.get("content");
            if (content != null && !content.isNull() && !content.isTextual()) {
                throw ApiException.badField(at + ".content", "'" + at + ".content' must be a string");
            }
            refuseImages(m.get("images"), at + ".images");
            List<ToolCall> toolCalls = new ArrayList<>();
            JsonNode given = m.get("tool_calls");
            if (given != null && !given.isNull()) {
                if (!given.isArray()) {
                    throw ApiException.badField(at + ".tool_calls", "'" + at + ".tool_calls' must be a list of tool calls");
                }
                for (int c = 0; c < given.size(); c++) {
                    JsonNode f = given.get(c).path("function");
                    if (!f.path("name").isTextual()) {
                        throw ApiException.badField(at + ".tool_calls[" + c + "]", "'" + at + ".tool_calls[" + c
                                + "]' must have a function with a name and arguments");
                    }
                    JsonNode args = f.get("arguments");
                    String arguments = args == null || args.isNull() ? "{}" : args.isTextual() ? args.asText() : args.toString();
                    toolCalls.add(new ToolCall("call_" + calls++, f.get("name").asText(), arguments));
                }
            }
            String text = content == null || content.isNull() ? "" : content.asText();
            out.add(new ChatMessage(role, text, toolCalls, null));
        }
        return out;
    }

    private static void refuseImages(JsonNode images, String field) {
        if (images != null && !images.isNull() && !(images.isArray() && images.isEmpty())) {
            throw ApiException.badField(field, "'" + field + "' is not supported: the served model reads text only");
        }
    }

    /** Submits the prompt, then answers with one document or a stream. */
    private void run(ServerRequest req, ServerResponse res, Job job) {
        BatchEngine engine = state.engine();
        TokenChannel channel = new TokenChannel();
        List<BatchEngine.Request> running = channel.submit(engine, List.of(job.prompt()), job.params(),
                job.chat() ? "messages" : "prompt");
        long t0 = System.nanoTime();
        Tokenizer tokenizer = engine.model().tokenizer();
        TokenChannel.answer(running, () -> {
            if (job.stream()) {
                stream(req, res, job, channel, running.getFirst(), t0, tokenizer);
            } else {
                GenerationResult r = channel.awaitResult(ENGINE_SILENCE_SECONDS);
                RequestLog.of(req).tokens(r.promptTokens().length + r.tokens().size());
                Responses.sendJson(res, 200, whole(job, r, t0, tokenizer));
            }
        });
    }

    private ObjectNode whole(Job job, GenerationResult r, long t0, Tokenizer tokenizer) {
        ObjectNode o = envelope();
        ReasoningSplitter split = r.splitInto(job.splitter(tokenizer));
        String text = PreparedChat.replyText(r, job.reasoning(), job.thinkingApart(), split);
        if (job.chat()) {
            ChatReply reply = PreparedChat.reply(job.tools(), text, split);
            ObjectNode message = o.putObject("message").put("role", "assistant").put("content", reply.content());
            if (job.thinkingApart() && !split.reasoning().isBlank()) {
                message.put("thinking", split.reasoning().strip());
            }
            if (!reply.toolCalls().isEmpty()) {
                toolCalls(message, reply.toolCalls());
            }
        } else {
            o.put("response", text);
            if (job.thinkingApart() && !split.reasoning().isBlank()) {
                o.put("thinking", split.reasoning().strip());
            }
        }
        done(o, r, t0);
        return o;
    }

    private void stream(ServerRequest req, ServerResponse res, Job job, TokenChannel channel, BatchEngine.Request running,
            long t0, Tokenizer tokenizer) throws InterruptedException {
        boolean harmonyCalls = job.tools() == ToolCallFormat.HARMONY;
        ToolReplyStream calls = job.tools() != null && !harmonyCalls ? new ToolReplyStream(job.tools(), job.mustCall()) : null;
        ReasoningSplitter splitter = job.splitter(tokenizer);
        int total = 0;
        NdjsonStream out = new NdjsonStream(res);
        try {
            while (true) {
                TokenChannel.Event e = channel.take(ENGINE_SILENCE_SECONDS);
                if (e.error() != null) {
                    // the status is sent; all that is left is to say so in the stream and stop
                    out.write(Json.MAPPER.createObjectNode().put("error", "generation failed: " + e.error().getMessage()));
                    running.cancel();
                    return;
                }
                if (e.token() != null) {
                    GeneratedToken t = e.token();
                    piece(out, job, splitter.accept(t.id(), t.text()), calls);
                    continue;
                }
                GenerationResult r = e.result();
                total = r.promptTokens().length + r.tokens().size();
                piece(out, job, splitter.finish(), calls);
                List<ToolCall> made = List.of();
                if (calls != null) {
                    ChatReply reply = calls.reply();
                    String rest = calls.unsentContent(reply);
                    if (!rest.isEmpty()) {
                        out.write(delta(job, rest, ""));
                    }
                    made = reply.toolCalls();
                } else if (harmonyCalls) {
                    made = splitter.toolCalls();
                }
                if (!made.isEmpty()) {
                    ObjectNode o = delta(job, "", "");
                    toolCalls((ObjectNode) o.get("message"), made);
                    out.write(o);
                }
                ObjectNode last = delta(job, "", "");
                done(last, r, t0);
                out.write(last);
                break;
            }
            RequestLog.of(req).tokens(total);
        } catch (ClientGone gone) {
            // the client went away: free its slot at the next step
            running.cancel();
            RequestLog.of(req).tokens(total).disconnected();
        } finally {
            out.close();
        }
    }

    /** Writes a token's text: the thinking and the answer apart or together, tool-call text held back. */
    private void piece(NdjsonStream out, Job job, ReasoningSplitter.Delta split, ToolReplyStream calls) {
        String thinking = job.thinkingApart() ? split.reasoning() : "";
        String answer = job.thinkingApart() ? split.content() : split.reasoning() + split.content();
        String text = calls != null ? calls.accept(answer) : answer;
        if (!text.isEmpty() || !thinking.isEmpty()) {
            out.write(delta(job, text, thinking));
        }
    }

    /** One streamed line that is not the last: a message delta (chat) or a response piece (generate). */
    private ObjectNode delta(Job job, String text, String thinking) {
        ObjectNode o = envelope();
        if (job.chat()) {
            ObjectNode m = o.putObject("message").put("role", "assistant").put("content", text);
            if (!thinking.isEmpty()) {
                m.put("thinking", thinking);
            }
        } else {
            o.put("response", text);
            if (!thinking.isEmpty()) {
                o.put("thinking", thinking);
            }
        }
        o.put("done", false);
        return o;
    }

    /** Tool calls in ollama's shape: {@code [{function: {name, arguments: {...}}}]}, arguments as an object. */
    private static void toolCalls(ObjectNode message, List<ToolCall> calls) {
        ArrayNode list = message.putArray("tool_calls");
        for (ToolCall c : calls) {
            ObjectNode f = list.addObject().putObject("function");
            f.put("name", c.name());
            JsonNode args;
            try {
                args = Json.MAPPER.readTree(c.arguments());
            } catch (IOException e) {
                args = null;
            }
            if (args != null && args.isObject()) {
                f.set("arguments", args);
            } else {
                f.put("arguments", c.arguments());
            }
        }
    }

    /** The last line's fields: why it ended, the token counts and the durations in nanoseconds. */
    private static void done(ObjectNode o, GenerationResult r, long t0) {
        o.put("done", true);
        o.put("done_reason", r.stopReason() == StopReason.LENGTH || r.stopReason() == StopReason.CONTEXT ? "length" : "stop");
        o.put("total_duration", System.nanoTime() - t0);
        o.put("load_duration", 0);
        Timings t = r.timings();
        o.put("prompt_eval_count", r.promptTokens().length);
        o.put("prompt_eval_duration", t == null ? 0 : t.promptNanos());
        o.put("eval_count", r.tokens().size());
        o.put("eval_duration", t == null ? 0 : t.generationNanos());
    }

    private ObjectNode envelope() {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("model", state.modelId());
        o.put("created_at", TIME.format(Instant.now()));
        return o;
    }

    // ---- embeddings

    /** {@code POST /api/embed}: {@code input} a string or strings → {@code embeddings}, one normalized vector each. */
    void embed(ServerRequest req, ServerResponse res) throws InterruptedException {
        Json j = Json.parse(Json.body(req));
        if (j.has("dimensions")) {
            throw ApiException.badField("dimensions", "'dimensions' is not supported: vectors keep the model's length");
        }
        j.bool("truncate", true); // checked; an input over the context is refused rather than cut
        long t0 = System.nanoTime();
        int[][] inputs = EmbeddingEndpoint.inputs(j, "input", embeddings.tokenizer());
        float[][] vectors = embeddings.vectors(inputs, "input");
        int total = 0;
        for (int[] in : inputs) {
            total += in.length;
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("model", state.modelId());
        ArrayNode list = o.putArray("embeddings");
        for (float[] v : vectors) {
            ArrayNode a = list.addArray();
            for (float x : v) {
                a.add(x);
            }
        }
        o.put("total_duration", System.nanoTime() - t0);
        o.put("load_duration", 0);
        o.put("prompt_eval_count", total);
        RequestLog.of(req).tokens(total);
        Responses.sendJson(res, 200, o);
    }

    /** {@code POST /api/embeddings} (ollama's older route): {@code prompt} → {@code embedding}. */
    void embeddings(ServerRequest req, ServerResponse res) throws InterruptedException {
        Json j = Json.parse(Json.body(req));
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode a = o.putArray("embedding");
        if (j.string("prompt", "").isEmpty()) {
            Responses.sendJson(res, 200, o); // ollama answers an empty prompt with an empty vector
            return;
        }
        int[][] inputs = EmbeddingEndpoint.inputs(j, "prompt", embeddings.tokenizer());
        for (float x : embeddings.vectors(inputs, "prompt")[0]) {
            a.add(x);
        }
        RequestLog.of(req).tokens(inputs[0].length);
        Responses.sendJson(res, 200, o);
    }

    // ---- the model

    /** {@code GET /api/version}: this server's version. */
    void version(ServerRequest req, ServerResponse res) {
        Responses.sendJson(res, 200, Json.MAPPER.createObjectNode().put("version", version));
    }

    /** {@code GET /api/tags}: the one model, as ollama lists its local models. */
    void tags(ServerRequest req, ServerResponse res) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ObjectNode m = o.putArray("models").addObject();
        entry(m);
        Responses.sendJson(res, 200, o);
    }

    /** {@code GET /api/ps}: the one model, loaded until the server stops. */
    void ps(ServerRequest req, ServerResponse res) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        ArrayNode list = o.putArray("models");
        if (state.ready()) {
            ObjectNode m = list.addObject();
            entry(m);
            m.remove("modified_at");
            m.put("expires_at", "9999-12-31T23:59:59Z");
            m.put("size_vram", 0);
        }
        Responses.sendJson(res, 200, o);
    }

    /**
     * {@code POST /api/show}: the model's details, its metadata without the long arrays (as ollama shows it
     * unless asked to be verbose), its chat template and what it can do.
     */
    void show(ServerRequest req, ServerResponse res) {
        Json j = Json.parse(Json.body(req));
        j.string("model", null); // checked; the served model answers whatever name is asked for
        j.bool("verbose", false);
        ObjectNode o = Json.MAPPER.createObjectNode();
        GgufFile file = file();
        o.put("license", file == null ? "" : file.metadata().getString("general.license", ""));
        o.put("modelfile", "# served by vellama\nFROM " + (file == null || file.path() == null ? state.modelId() : file.path()) + "\n");
        o.put("parameters", "");
        o.put("template", state.encoder() != null || state.template() == null ? "" : state.template().source().orElse(""));
        ObjectNode details = o.putObject("details");
        details(details);
        ObjectNode info = o.putObject("model_info");
        if (file != null) {
            for (String key : file.metadata().keys()) {
                GgufValue v = file.metadata().get(key);
                if (!v.isArray()) {
                    info.set(key, Json.MAPPER.valueToTree(v.value()));
                }
            }
        }
        ArrayNode can = o.putArray("capabilities");
        if (state.encoder() != null) {
            can.add("embedding");
        } else {
            can.add("completion");
            if (state.template() != null && state.template().source().orElse("").contains("tools")) {
                can.add("tools");
            }
            if (state.template() != null && ReasoningFormat.of(state.template()) != ReasoningFormat.NONE) {
                can.add("thinking");
            }
        }
        o.put("modified_at", modified(file));
        Responses.sendJson(res, 200, o);
    }

    /** A model entry of {@code /api/tags} and {@code /api/ps}. */
    private void entry(ObjectNode m) {
        GgufFile file = file();
        m.put("name", state.modelId());
        m.put("model", state.modelId());
        m.put("modified_at", modified(file));
        m.put("size", file == null ? 0 : file.fileSize());
        m.put("digest", digest(file));
        details(m.putObject("details"));
    }

    /** {@code details}: format, family, parameter size and quantization, as ollama names them. */
    private void details(ObjectNode d) {
        GgufFile file = file();
        String arch = file == null ? "" : file.metadata().getString("general.architecture", "");
        d.put("parent_model", "");
        d.put("format", "gguf");
        d.put("family", arch);
        d.putArray("families").add(arch);
        Model model = state.encoder() == null && state.ready() ? state.engine().model() : null;
        d.put("parameter_size", model == null ? "" : parameterSize(model.parameterCount()));
        d.put("quantization_level", file == null ? "" : quantization(file));
    }

    /** The generative model's file; null while loading or behind an embedding model. */
    private GgufFile file() {
        return state.encoder() == null && state.ready() ? state.engine().model().file() : null;
    }

    /** ollama's sizes: "1.2B", "135M". */
    static String parameterSize(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1fB", n / 1e9);
        }
        return String.format(Locale.ROOT, "%.0fM", n / 1e6);
    }

    /** The file type llama-quantize wrote ({@code general.file_type}), by its name: "Q4_K_M". */
    private static String quantization(GgufFile file) {
        int id = file.metadata().getInt("general.file_type", -1);
        if (id < 0) {
            return "unknown";
        }
        try {
            return ModelQuantizer.FileType.parse(String.valueOf(id)).name();
        } catch (VellamaException e) {
            return "unknown";
        }
    }

    private static String modified(GgufFile file) {
        try {
            if (file != null && file.path() != null) {
                return TIME.format(Files.getLastModifiedTime(file.path()).toInstant());
            }
        } catch (IOException e) {
            // a file that cannot be looked at now still serves: no time
        }
        return TIME.format(Instant.EPOCH);
    }

    /**
     * A digest that names this file as served (SHA-256 of its path, size and modification time): not ollama's
     * hash of the file's bytes, which would mean reading gigabytes for a listing.
     */
    private static String digest(GgufFile file) {
        String id = file == null || file.path() == null ? "" : file.path().toAbsolutePath() + "\n" + file.fileSize() + "\n" + modified(file);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static String readVersion() {
        try (InputStream in = OllamaEndpoints.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version", "unknown");
            }
        } catch (IOException e) {
            // no version to tell
        }
        return "unknown";
    }
}
