package dev.vellama.runtime.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * Every template in the test resources but Gemma 4's (which {@link Gemma4TemplateTest} covers) rendered for twenty
 * conversations (system prompts or none, several turns, no generation prompt, a continued assistant turn, odd
 * whitespace and several lines, quotes and template syntax in the text, tools with flat and nested schemas, a tool
 * call with its result and the answer after, two calls and their two results, earlier reasoning in the history,
 * thinking on and off) as Python's Jinja2 renders them, set up as Hugging Face's {@code apply_chat_template} sets it
 * up: the same text, or a {@link ChatTemplateException} where Jinja2 raised. The expected renders were printed by
 * {@code python3 reference_renders.py} next to the templates (jinja2 3.1.6).
 */
class TemplateRenderDifferentialTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The moment strftime_now sees on both sides. */
    private static final Clock NOON = Clock.fixed(Instant.parse("2026-12-07T12:00:00Z"), ZoneOffset.UTC);

    @Test
    void rendersAsJinja2() throws IOException {
        int[] counts = compare("");
        assertEquals(260, counts[0] + counts[1]);
        assertEquals(17, counts[1]);
        assertEquals(0, counts[2]);
    }

    /**
     * The templates llama.cpp keeps for its own chat tests ({@code models/templates}, 51 of them without Gemma 4's),
     * copied from a mirror of its repository into {@code templates/llama-cpp/}. Twelve renders differ on purpose (see
     * {@link #compare}): six of llama.cpp's own DeepSeek R1 template, which Jinja2 cannot render, and six of
     * Functionary 3.1's, where Jinja2 HTML-escapes the tools' JSON.
     */
    @Test
    void llamaCppsTemplatesRenderAsJinja2() throws IOException {
        int[] counts = compare("llama-cpp/");
        assertEquals(51 * 20, counts[0] + counts[1] + counts[2]);
        assertEquals(98, counts[1]);
        assertEquals(12, counts[2]);
    }

    /**
     * Renders every row of {@code DIR/reference-renders.jsonl}; fails listing the differences; returns {equal renders,
     * equal refusals, accepted differences}.
     */
    private static int[] compare(String dir) throws IOException {
        List<String> bad = new ArrayList<>();
        int rendered = 0;
        int refused = 0;
        int accepted = 0;
        Map<String, ChatTemplate> templates = new LinkedHashMap<>();
        for (JsonNode row : rows(dir)) {
            String name = row.get("template").asText();
            ChatTemplate t = templates.computeIfAbsent(name, n -> RealTemplatesTest.load(dir + n, "<s>", "</s>").withClock(NOON));
            List<ChatMessage> messages = new ArrayList<>();
            for (JsonNode m : row.get("messages")) {
                List<ToolCall> calls = new ArrayList<>();
                for (JsonNode c : m.path("tool_calls")) {
                    calls.add(new ToolCall(c.get("id").asText(), c.get("function").get("name").asText(),
                            c.get("function").get("arguments").toString()));
                }
                messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText(), calls,
                        m.has("tool_call_id") ? m.get("tool_call_id").asText() : null));
            }
            Map<String, Object> variables = new LinkedHashMap<>();
            row.get("variables").fields().forEachRemaining(e -> variables.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class)));
            boolean prompt = !Boolean.FALSE.equals(variables.remove("add_generation_prompt"));
            String what = name + " / " + row.get("case").asText();
            String expected = row.get("text").isNull() ? null : row.get("text").asText();
            try {
                String got = t.render(messages, prompt, variables);
                if (expected == null && row.get("error").asText().contains("generator is not JSON serializable")) {
                    // a template written for llama.cpp's engine passes map's result straight to tojson: Jinja2's map
                    // gives a generator its tojson cannot write, where llama.cpp's engine and this one give a list
                    accepted++;
                } else if (expected != null && !expected.equals(got) && unescaped(expected).equals(got)) {
                    // "..."|safe + text: Python's Markup escapes the plain text it is added to (quotes as &#34;), a
                    // quirk of Jinja2 that llama.cpp's engine and this one leave out: the text stays as it is
                    accepted++;
                } else if (expected == null) {
                    bad.add(what + ": Jinja2 raised (" + row.get("error").asText() + ") but it rendered:\n" + got);
                } else if (!expected.equals(got)) {
                    bad.add(what + ":\n--- Jinja2\n" + expected + "\n--- Vellama\n" + got);
                } else {
                    rendered++;
                }
            } catch (ChatTemplateException e) {
                if (expected != null) {
                    bad.add(what + ": refused (" + e.getMessage() + ") where Jinja2 rendered:\n" + expected);
                } else {
                    refused++;
                }
            }
        }
        if (!bad.isEmpty()) {
            fail(bad.size() + " renders differ:\n\n" + String.join("\n\n", bad));
        }
        assertTrue(templates.size() >= 12, templates.keySet().toString());
        return new int[] {rendered, refused, accepted};
    }

    /** Markup's escapes of a plain string undone. */
    private static String unescaped(String s) {
        return s.replace("&#34;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    }

    private static List<JsonNode> rows(String dir) throws IOException {
        try (InputStream in = TemplateRenderDifferentialTest.class.getResourceAsStream("templates/" + dir + "reference-renders.jsonl")) {
            if (in == null) {
                throw new IOException("missing test resource templates/reference-renders.jsonl");
            }
            List<JsonNode> out = new ArrayList<>();
            for (String line : new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList()) {
                if (!line.isBlank()) {
                    out.add(JSON.readTree(line));
                }
            }
            return out;
        }
    }
}
