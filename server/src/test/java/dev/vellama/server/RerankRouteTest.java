package dev.vellama.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vellama.runtime.EncoderModel;
import dev.vellama.testdata.TinyBert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * llama-server's {@code /rerank} on a served reranker: Jina's and Cohere's shape best first with {@code top_n}, TEI's
 * shape for {@code texts}, the library's scores, clear 400s for bad bodies, and a 501 from a model that does not rank.
 */
class RerankRouteTest {
    private static final List<String> DOCS = List.of("The giant panda is a bear native to China.",
            "Paris is the capital of France.", "hi", "Pandas eat bamboo.");

    @Test
    void aRerankerScoresDocumentsBestFirst(@TempDir Path dir) throws Exception {
        Path file = TinyBert.writeReranker(dir.resolve("rr.gguf"), true);
        try (EncoderModel model = EncoderModel.load(file, 2);
             VellamaServer server = VellamaServer.start(VellamaServer.ServerOptions.defaults().withPort(0).withLog(s -> { }))) {
            server.attachEncoder(model, "tiny-reranker");
            Http http = new Http("http://127.0.0.1:" + server.port(), null);
            float[] expected = model.rank("what is a panda?", DOCS);
            String docs = Json.MAPPER.writeValueAsString(DOCS);

            for (String route : new String[] {"/v1/rerank", "/rerank", "/v1/reranking", "/reranking"}) {
                Http.Answer a = http.post(route, "{\"model\": \"x\", \"query\": \"what is a panda?\", \"documents\": " + docs + "}");
                assertEquals(200, a.status(), a.body());
                JsonNode o = a.json();
                assertEquals("list", o.path("object").asText());
                assertEquals("tiny-reranker", o.path("model").asText());
                JsonNode results = o.path("results");
                assertEquals(DOCS.size(), results.size());
                double last = Double.POSITIVE_INFINITY;
                boolean[] seen = new boolean[DOCS.size()];
                for (JsonNode r : results) {
                    int i = r.path("index").asInt();
                    seen[i] = true;
                    assertEquals(expected[i], r.path("relevance_score").asDouble(), 1e-6, route);
                    assertTrue(r.path("relevance_score").asDouble() <= last, "best first");
                    last = r.path("relevance_score").asDouble();
                    assertFalse(r.has("document"));
                }
                for (boolean s : seen) {
                    assertTrue(s);
                }
                assertTrue(o.path("usage").path("prompt_tokens").asInt() > 0);
            }

            Http.Answer top = http.post("/v1/rerank", "{\"query\": \"what is a panda?\", \"documents\": " + docs
                    + ", \"top_n\": 2, \"return_documents\": true}");
            assertEquals(200, top.status(), top.body());
            assertEquals(2, top.json().path("results").size());
            JsonNode best = top.json().path("results").get(0);
            assertEquals(DOCS.get(best.path("index").asInt()), best.path("document").path("text").asText());

            // Hugging Face TEI's shape: texts in, a bare list of index and score out
            Http.Answer tei = http.post("/rerank", "{\"query\": \"what is a panda?\", \"texts\": " + docs + ", \"return_text\": true}");
            assertEquals(200, tei.status(), tei.body());
            assertTrue(tei.json().isArray());
            JsonNode first = tei.json().get(0);
            assertEquals(expected[first.path("index").asInt()], first.path("score").asDouble(), 1e-6);
            assertEquals(DOCS.get(first.path("index").asInt()), first.path("text").asText());

            String[][] bad = {
                {"{\"documents\": [\"a\"]}", "query"},
                {"{\"query\": \"\", \"documents\": [\"a\"]}", "query"},
                {"{\"query\": 3, \"documents\": [\"a\"]}", "query"},
                {"{\"query\": \"q\"}", "documents"},
                {"{\"query\": \"q\", \"documents\": []}", "documents"},
                {"{\"query\": \"q\", \"documents\": \"a\"}", "documents"},
                {"{\"query\": \"q\", \"documents\": [1, 2]}", "documents"},
                {"{\"query\": \"q\", \"documents\": [\"a\"], \"top_n\": 0}", "top_n"},
                {"{\"query\": \"q\", \"documents\": [\"a\"], \"top_n\": \"2\"}", "top_n"},
                {"{\"query\": \"q\", \"documents\": [\"" + "word ".repeat(600) + "\"]}", "documents"},
                {"{\"query\": \"q\", \"documents\": " + Json.MAPPER.writeValueAsString(java.util.Collections.nCopies(257, "a")) + "}", "documents"},
                {"[1, 2]", null},
            };
            for (String[] b : bad) {
                Http.Answer a = http.post("/v1/rerank", b[0]);
                assertEquals(400, a.status(), b[0] + " -> " + a.body());
                if (b[1] != null) {
                    assertEquals(b[1], a.error("param"), a.body());
                }
            }
            // each field replaced by values of the wrong kind or out of range: a success or a 4xx, never a 5xx
            String[] hostile = {"null", "\"x\"", "-1", "0", "1e308", "9223372036854775807", "0.5", "true", "[]", "[[1]]",
                "[null]", "{}", "{\"a\": {\"b\": []}}", "\"\"", "[{\"text\": 3}]"};
            for (String field : new String[] {"query", "documents", "texts", "top_n", "return_documents", "return_text", "model"}) {
                for (String value : hostile) {
                    com.fasterxml.jackson.databind.node.ObjectNode body = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER
                            .readTree("{\"query\": \"q\", \"documents\": [\"a\", \"b\"]}");
                    body.set(field, Json.MAPPER.readTree(value));
                    Http.Answer a = http.post("/v1/rerank", body.toString());
                    assertTrue(a.status() == 200 || a.status() >= 400 && a.status() < 500, field + "=" + value + " -> " + a.body());
                }
            }
            // the server still answers after the bad requests
            assertEquals(200, http.post("/v1/rerank", "{\"query\": \"q\", \"documents\": [\"a\"]}").status());
            Http.Answer chat = http.post("/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
            assertEquals(400, chat.status());
            assertTrue(chat.error("message").contains("reranker"), chat.body());
        }
    }

    @Test
    void aModelWithoutAHeadDoesNotRerank(@TempDir Path dir) throws Exception {
        Path file = TinyBert.write(dir.resolve("bert.gguf"));
        try (EncoderModel model = EncoderModel.load(file, 2);
             VellamaServer server = VellamaServer.start(VellamaServer.ServerOptions.defaults().withPort(0).withLog(s -> { }))) {
            server.attachEncoder(model, "bert");
            Http.Answer a = new Http("http://127.0.0.1:" + server.port(), null).post("/v1/rerank",
                    "{\"query\": \"q\", \"documents\": [\"a\"]}");
            assertEquals(501, a.status(), a.body());
            assertEquals("not_supported_error", a.error("type"));
        }
    }
}
