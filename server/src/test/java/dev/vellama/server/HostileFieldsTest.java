package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each field a request may carry, on each endpoint, replaced by values of the wrong kind or out of range (null, a
 * string, a negative or huge number, an empty or nested array, an object): the answer is a success or a 4xx with
 * the API's error shape (OpenAI's error object; ollama's {@code {"error": "..."}} under {@code /api/}; Anthropic's
 * {@code {"type": "error", "error": {...}}} under {@code /v1/messages}), never a 5xx,
 * and the server answers a plain request afterwards. Ollama's {@code options} are tried one by one inside the object.
 */
class HostileFieldsTest {
    private static final String[] HOSTILE = {"null", "\"x\"", "-1", "0", "1e308", "-1e308", "9223372036854775807",
            "2147483648", "0.5", "true", "[]", "[[1]]", "[null]", "{}", "{\"a\": {\"b\": []}}", "\"\""};
    private static final List<String> SAMPLING = List.of("max_tokens", "max_completion_tokens", "temperature", "top_p",
            "top_k", "min_p", "typical_p", "seed", "stop", "presence_penalty", "frequency_penalty", "repeat_penalty",
            "repeat_last_n", "logprobs", "top_logprobs", "n", "stream", "stream_options", "logit_bias", "ignore_eos",
            "n_keep", "cache_prompt", "mirostat", "mirostat_tau", "mirostat_eta", "xtc_probability", "xtc_threshold",
            "dry_multiplier", "dry_base", "dry_allowed_length", "dry_sequence_breakers", "grammar", "json_schema",
            "response_format", "tools", "tool_choice", "parallel_tool_calls", "user", "model", "n_probs", "samplers", "lora");
    private static final List<String> ANTHROPIC = List.of("messages", "system", "max_tokens", "temperature", "top_p",
            "top_k", "stop_sequences", "stream", "tools", "tool_choice", "thinking", "metadata", "model", "seed",
            "service_tier");
    private static final Map<String, List<String>> ENDPOINT_FIELDS = Map.ofEntries(
            Map.entry("/v1/chat/completions", concat(SAMPLING, "messages")),
            Map.entry("/v1/completions", concat(SAMPLING, "prompt", "echo", "suffix")),
            Map.entry("/completion", concat(SAMPLING, "prompt", "id_slot")),
            Map.entry("/v1/embeddings", List.of("input", "model", "encoding_format", "dimensions")),
            Map.entry("/tokenize", List.of("content", "add_special", "parse_special", "with_pieces")),
            Map.entry("/detokenize", List.of("tokens")),
            Map.entry("/api/chat", List.of("messages", "tools", "format", "options", "stream", "think", "model", "keep_alive")),
            Map.entry("/api/generate", List.of("prompt", "system", "raw", "format", "options", "stream", "think", "suffix",
                    "template", "context", "images", "model")),
            Map.entry("/api/embed", List.of("input", "model", "truncate", "dimensions")),
            Map.entry("/api/embeddings", List.of("prompt", "model")),
            Map.entry("/api/show", List.of("model", "verbose")),
            Map.entry("/v1/messages", ANTHROPIC),
            Map.entry("/v1/messages/count_tokens", ANTHROPIC),
            Map.entry("/v1/responses", List.of("input", "instructions", "tools", "tool_choice", "max_output_tokens",
                    "temperature", "top_p", "stream", "text", "reasoning", "parallel_tool_calls", "store",
                    "previous_response_id", "conversation", "metadata", "seed", "truncation", "include", "user")));
    /** Ollama's {@code options}, each set alone inside the object. */
    private static final List<String> OLLAMA_OPTIONS = List.of("num_predict", "temperature", "top_k", "top_p", "min_p",
            "typical_p", "repeat_penalty", "repeat_last_n", "presence_penalty", "frequency_penalty", "seed", "stop",
            "mirostat", "mirostat_tau", "mirostat_eta", "num_keep", "num_ctx", "num_thread");

    private static ServerFixture fixture;
    private static Http http;

    @BeforeAll
    static void start() throws IOException {
        fixture = new ServerFixture(1, 512, 8, null);
        http = new Http(fixture.baseUrl(), null);
    }

    @AfterAll
    static void stop() {
        if (fixture != null) {
            fixture.close();
        }
    }

    @Test
    void deeplyNestedGrammarsAndPatternsAre400s() throws Exception {
        ObjectNode grammar = valid("/v1/completions").put("grammar", "root ::= " + "(".repeat(5000) + "\"a\"" + ")".repeat(5000));
        Http.Answer a = http.post("/v1/completions", grammar.toString());
        assertEquals(400, a.status(), a.body());
        assertEquals("grammar", a.error("param"));
        ObjectNode schema = valid("/v1/completions");
        schema.putObject("json_schema").put("type", "string").put("pattern", "^" + "(".repeat(5000) + "a" + ")".repeat(5000) + "$");
        a = http.post("/v1/completions", schema.toString());
        assertEquals(400, a.status(), a.body());
        assertEquals("json_schema", a.error("param"));
        assertEquals(200, http.post("/v1/completions", valid("/v1/completions").toString()).status());
    }

    private static List<String> concat(List<String> a, String... more) {
        List<String> all = new ArrayList<>(a);
        all.addAll(List.of(more));
        return all;
    }

    private static ObjectNode valid(String endpoint) {
        ObjectNode body = Http.JSON.createObjectNode();
        switch (endpoint) {
            case "/v1/chat/completions" -> body.put("max_tokens", 2).put("temperature", 0)
                    .set("messages", Http.JSON.createArrayNode().add(Http.JSON.createObjectNode().put("role", "user").put("content", "Hi")));
            case "/v1/completions", "/completion" -> body.put("max_tokens", 2).put("temperature", 0).put("prompt", "Once");
            case "/v1/embeddings" -> body.put("input", "Once");
            case "/tokenize" -> body.put("content", "Once");
            case "/api/chat" -> {
                body.put("stream", false).putObject("options").put("num_predict", 2).put("temperature", 0);
                body.set("messages", Http.JSON.createArrayNode().add(Http.JSON.createObjectNode().put("role", "user").put("content", "Hi")));
            }
            case "/api/generate" -> body.put("prompt", "Once").put("stream", false).putObject("options").put("num_predict", 2);
            case "/api/embed" -> body.put("input", "Once");
            case "/api/embeddings" -> body.put("prompt", "Once");
            case "/api/show" -> body.put("model", "m");
            case "/v1/responses" -> body.put("max_output_tokens", 2).put("temperature", 0).put("input", "Hi");
            case "/v1/messages", "/v1/messages/count_tokens" -> body.put("max_tokens", 2).put("temperature", 0)
                    .set("messages", Http.JSON.createArrayNode().add(Http.JSON.createObjectNode().put("role", "user").put("content", "Hi")));
            default -> body.set("tokens", Http.JSON.createArrayNode().add(1).add(2));
        }
        return body;
    }

    @Test
    void everyFieldWithAHostileValueIsASuccessOrA4xx() throws Exception {
        List<String> bad = new ArrayList<>();
        Map<Integer, Integer> statuses = new java.util.TreeMap<>();
        int requests = 0;
        for (Map.Entry<String, List<String>> e : ENDPOINT_FIELDS.entrySet()) {
            for (String field : e.getValue()) {
                for (String value : HOSTILE) {
                    ObjectNode body = valid(e.getKey());
                    body.set(field, Http.JSON.readTree(value));
                    requests++;
                    check(e.getKey(), body, field + "=" + value, statuses, bad);
                }
            }
        }
        for (String endpoint : List.of("/api/chat", "/api/generate")) {
            for (String option : OLLAMA_OPTIONS) {
                for (String value : HOSTILE) {
                    ObjectNode body = valid(endpoint);
                    ((ObjectNode) body.get("options")).set(option, Http.JSON.readTree(value));
                    requests++;
                    check(endpoint, body, "options." + option + "=" + value, statuses, bad);
                }
            }
        }
        System.out.println(requests + " hostile requests, by status: " + statuses);
        if (!bad.isEmpty()) {
            fail(bad.size() + " of " + requests + " requests:\n" + String.join("\n", bad));
        }
        assertEquals(200, http.post("/v1/completions", valid("/v1/completions").toString()).status());
        assertEquals(200, http.post("/api/chat", valid("/api/chat").toString()).status());
    }

    /** Requests whose nesting reaches every part of the four chat APIs' shapes: messages, blocks, items, tools. */
    private static final Map<String, String> NESTED = Map.of(
            "/api/chat", """
                    {"stream": false, "options": {"num_predict": 1, "temperature": 0, "stop": ["x"]},
                     "messages": [{"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"a": "b"}}}]},
                      {"role": "tool", "content": "ok", "tool_name": "f"}],
                     "tools": [{"type": "function", "function": {"name": "f", "description": "d",
                      "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}],
                     "format": {"type": "object", "properties": {"a": {"type": "string"}}}}""",
            "/v1/chat/completions", """
                    {"max_tokens": 1, "temperature": 0, "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                     {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                      "function": {"name": "f", "arguments": "{}"}}]},
                     {"role": "tool", "tool_call_id": "c1", "content": "ok"}],
                     "tools": [{"type": "function", "function": {"name": "f", "description": "d",
                      "parameters": {"type": "object", "properties": {"a": {"type": "string"}}}}}],
                     "tool_choice": {"type": "function", "function": {"name": "f"}}}""",
            "/v1/messages", """
                    {"max_tokens": 1, "temperature": 0, "system": [{"type": "text", "text": "Be brief."}],
                     "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                      {"role": "assistant", "content": [{"type": "thinking", "thinking": "t"},
                       {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": "b"}}]},
                      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                       "content": [{"type": "text", "text": "ok"}]}]}],
                     "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
                     "tool_choice": {"type": "tool", "name": "f"}, "thinking": {"type": "enabled", "budget_tokens": 10}}""",
            "/v1/responses", """
                    {"max_output_tokens": 1, "temperature": 0, "instructions": "Be brief.",
                     "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
                      {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"},
                      {"type": "function_call_output", "call_id": "c1", "output": "ok"}],
                     "tools": [{"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}}],
                     "tool_choice": {"type": "function", "name": "f"}, "text": {"format": {"type": "json_schema",
                      "name": "s", "schema": {"type": "object"}}}, "reasoning": {"effort": "low"}}""");

    @Test
    void everyNestedPartWithAHostileValueIsASuccessOrA4xx() throws Exception {
        List<String> bad = new ArrayList<>();
        Map<Integer, Integer> statuses = new java.util.TreeMap<>();
        int requests = 0;
        for (Map.Entry<String, String> e : NESTED.entrySet()) {
            JsonNode base = Http.JSON.readTree(e.getValue());
            assertEquals(200, http.post(e.getKey(), base.toString()).status(), e.getKey() + " takes the base request");
            List<String> paths = new ArrayList<>();
            paths(base, "", paths);
            for (String path : paths) {
                for (String value : HOSTILE) {
                    JsonNode body = base.deepCopy();
                    replace(body, path, Http.JSON.readTree(value));
                    requests++;
                    check(e.getKey(), (ObjectNode) body, path + "=" + value, statuses, bad);
                }
            }
        }
        System.out.println(requests + " nested hostile requests, by status: " + statuses);
        if (!bad.isEmpty()) {
            fail(bad.size() + " of " + requests + " requests:\n" + String.join("\n", bad));
        }
    }

    /** Every place below the top level of {@code node}, as JSON pointers. */
    private static void paths(JsonNode node, String at, List<String> out) {
        if (node.isObject()) {
            node.fieldNames().forEachRemaining(f -> {
                String p = at + "/" + f;
                if (!at.isEmpty()) {
                    out.add(p);
                }
                paths(node.get(f), p, out);
            });
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                out.add(at + "/" + i);
                paths(node.get(i), at + "/" + i, out);
            }
        }
    }

    private static void replace(JsonNode root, String pointer, JsonNode value) {
        int cut = pointer.lastIndexOf('/');
        JsonNode parent = root.at(pointer.substring(0, cut));
        String last = pointer.substring(cut + 1);
        if (parent instanceof ObjectNode o) {
            o.set(last, value);
        } else {
            ((com.fasterxml.jackson.databind.node.ArrayNode) parent).set(Integer.parseInt(last), value);
        }
    }

    /** One request: a success, or a 4xx with the error shape of its API (OpenAI's object; ollama's string under /api/). */
    private static void check(String endpoint, ObjectNode body, String what, Map<Integer, Integer> statuses, List<String> bad)
            throws IOException, InterruptedException {
        Http.Answer a = http.post(endpoint, body.toString());
        statuses.merge(a.status(), 1, Integer::sum);
        String line = endpoint + " " + what + ": " + a.status() + " " + a.body().lines().findFirst().orElse("");
        if (a.status() >= 500) {
            bad.add(line);
        } else if (a.status() >= 400) {
            JsonNode error = a.json().path("error");
            boolean shaped = endpoint.startsWith("/api/") ? error.isTextual() && !error.asText().isBlank()
                    : error.path("message").isTextual() && error.path("type").isTextual();
            if (!shaped) {
                bad.add(line + " (no error object)");
            }
        }
    }
}
