package dev.vellama.runtime.chat.jinja;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * Random small templates (1,800 in four sets) over the expressions, filters, tests, loops, string methods and
 * layout chat templates use, rendered as Python's Jinja2 3.1.6 renders them (set up as Hugging Face's {@code apply_chat_template} sets it
 * up): the same text, or a {@link JinjaException} where Jinja2 raised. Written by {@code generate.py} in the
 * test resources' {@code jinja-differential/}.
 */
class JinjaDifferentialTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void rendersAsJinja2() throws IOException {
        assertEquals(600, compare("cases.jsonl"));
    }

    /** A second set: string methods, % and format, macros, loop variables, block set, raw, comments, filter blocks. */
    @Test
    void moreRendersAsJinja2() throws IOException {
        assertEquals(400, compare("cases-2.jsonl"));
    }

    /**
     * A third set: case and unicode, tojson of odd text, undefined and missing values, errors, whitespace control,
     * call blocks, loops over mappings, nested namespaces.
     */
    @Test
    void evenMoreRendersAsJinja2() throws IOException {
        assertEquals(400, compare("cases-3.jsonl"));
    }

    /** A fourth set: text with newlines and indentation around tags, comments and raw blocks, every whitespace marker. */
    @Test
    void layoutRendersAsJinja2() throws IOException {
        assertEquals(400, compare("cases-4.jsonl"));
    }

    /** Renders every case of a file; fails listing the differences; the number of cases. */
    private static int compare(String file) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        try (InputStream in = JinjaDifferentialTest.class.getResourceAsStream("/dev/vellama/runtime/chat/jinja-differential/" + file)) {
            if (in == null) {
                throw new IOException("missing test resource jinja-differential/" + file);
            }
            for (String line : new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList()) {
                rows.add(JSON.readTree(line));
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> variables = JSON.convertValue(rows.getFirst().get("variables"), Map.class);
        List<String> bad = new ArrayList<>();
        int cases = 0;
        for (JsonNode row : rows.subList(1, rows.size())) {
            cases++;
            String source = row.get("template").asText();
            String expected = row.has("text") ? row.get("text").asText() : null;
            String got;
            try {
                got = JinjaTemplate.parse(source).render(variables);
            } catch (JinjaException e) {
                if (expected != null) {
                    bad.add(source + "\n  Jinja2: " + expected + "\n  failed: " + e.getMessage());
                }
                continue;
            }
            if (expected == null) {
                bad.add(source + "\n  Jinja2 raised " + row.get("error").asText() + "\n  rendered: " + got);
            } else if (!expected.equals(got)) {
                bad.add(source + "\n  Jinja2:   " + expected + "\n  rendered: " + got);
            }
        }
        if (!bad.isEmpty()) {
            fail(bad.size() + " of " + cases + " templates differ:\n\n" + String.join("\n\n", bad));
        }
        return cases;
    }
}
