package dev.vellama.server;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.ContextOverflowException;
import dev.vellama.runtime.EncoderModel;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * llama-server's {@code /rerank} (also {@code /reranking}, {@code /v1/rerank}, {@code /v1/reranking}): a
 * {@code query} and {@code documents}, scored by a reranker (an encoder with a classification head), answered in
 * Jina's and Cohere's shape ({@code results} of {@code index} and {@code relevance_score}, best first, cut to
 * {@code top_n}; {@code document} with {@code return_documents}); a body with {@code texts} instead of
 * {@code documents} is answered in Hugging Face TEI's shape (a list of {@code index} and {@code score}, {@code text}
 * with {@code return_text}). Any other model gets a 501, as llama-server without {@code --reranking} answers.
 */
final class RerankEndpoint {
    /** The most documents one request may score. */
    private static final int MAX_DOCUMENTS = 256;

    private final ServerState state;

    RerankEndpoint(ServerState state) {
        this.state = state;
    }

    void rerank(ServerRequest req, ServerResponse res) {
        if (!state.ready()) {
            state.engine(); // the 503 of a model still loading
        }
        EncoderModel encoder = state.encoder();
        if (encoder == null || !encoder.ranks()) {
            throw new ApiException(501, "not_supported_error", "not_supported", null, "this server does not support "
                    + "reranking: the model " + state.modelId() + " is not a reranker (it has no classification head)");
        }
        Json j = Json.parse(Json.body(req));
        String query = j.string("query", null);
        if (query == null || query.isEmpty()) {
            throw ApiException.badField("query", "'query' must be a non-empty string");
        }
        boolean tei = !j.has("documents") && j.has("texts");
        String field = tei ? "texts" : "documents";
        List<String> documents = documents(j, field);
        int topN = (int) j.integer("top_n", 1, Integer.MAX_VALUE, documents.size());
        boolean returnText = tei ? j.bool("return_text", false) : j.bool("return_documents", false);

        int[][] pairs = encoder.rerankPairs(query, documents);
        int total = 0;
        for (int[] pair : pairs) {
            total += pair.length;
        }
        float[] scores;
        try {
            scores = encoder.rankTokens(pairs);
        } catch (ContextOverflowException e) {
            throw new ApiException(400, "invalid_request_error", "context_length_exceeded", field,
                    "a query and document pair is too long for the model: " + e.getMessage());
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingDouble((Integer i) -> scores[i]).reversed());
        ArrayNode results = Json.MAPPER.createArrayNode();
        for (int i : order.subList(0, Math.min(topN, order.size()))) {
            ObjectNode r = results.addObject();
            r.put("index", i);
            r.put(tei ? "score" : "relevance_score", scores[i]);
            if (returnText && tei) {
                r.put("text", documents.get(i));
            } else if (returnText) {
                r.putObject("document").put("text", documents.get(i));
            }
        }
        RequestLog.of(req).tokens(total);
        if (tei) {
            Responses.sendJson(res, 200, results);
            return;
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("model", state.modelId());
        o.put("object", "list");
        o.putObject("usage").put("prompt_tokens", total).put("total_tokens", total);
        o.set("results", results);
        Responses.sendJson(res, 200, o);
    }

    /** A non-empty list of strings (Cohere's and Jina's objects with a {@code text} are taken too). */
    private static List<String> documents(Json j, String field) {
        JsonNode in = j.node(field);
        if (in == null || !in.isArray() || in.isEmpty()) {
            throw ApiException.badField(field, "'" + field + "' must be a non-empty list of strings");
        }
        if (in.size() > MAX_DOCUMENTS) {
            throw ApiException.badField(field, "at most " + MAX_DOCUMENTS + " documents per request");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : in) {
            if (e.isTextual()) {
                out.add(e.asText());
            } else if (e.isObject() && e.path("text").isTextual()) {
                out.add(e.path("text").asText());
            } else {
                throw ApiException.badField(field, "'" + field + "' must be a list of strings");
            }
        }
        return out;
    }
}
