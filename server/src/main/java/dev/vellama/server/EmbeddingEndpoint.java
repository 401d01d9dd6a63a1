package dev.vellama.server;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Semaphore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.ContextOverflowException;
import dev.vellama.runtime.Embeddings;
import dev.vellama.runtime.Model;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code POST /v1/embeddings}, OpenAI's shape: {@code input} as a string, a list of strings, token ids or lists of
 * them; {@code encoding_format} {@code float} or {@code base64}; {@code dimensions} refused (no truncation). Computed
 * beside the batch engine in a session of its own, one request at a time, so embeddings never stall generation's
 * slots for long and never run more than one extra pass at once.
 */
final class EmbeddingEndpoint {
    /** The most texts one request may embed. */
    private static final int MAX_INPUTS = 256;

    private final ServerState state;
    private final Semaphore one = new Semaphore(1, true);

    EmbeddingEndpoint(ServerState state) {
        this.state = state;
    }

    void embeddings(ServerRequest req, ServerResponse res) throws InterruptedException {
        dev.vellama.runtime.EncoderModel encoder = state.encoder();
        Model model = encoder == null ? state.engine().model() : null;
        dev.vellama.runtime.tokenizer.Tokenizer tokenizer = encoder != null ? encoder.tokenizer() : model.tokenizer();
        int dims = encoder != null ? encoder.embeddingLength() : model.config().embeddingLength();
        Json j = Json.parse(Json.body(req));
        int[][] inputs = inputs(j, tokenizer);
        String encoding = j.string("encoding_format", "float");
        if (!encoding.equals("float") && !encoding.equals("base64")) {
            throw ApiException.badField("encoding_format", "'encoding_format' must be float or base64, not '" + encoding + "'");
        }
        if (j.has("dimensions")) {
            throw ApiException.badField("dimensions", "'dimensions' is not supported: the model's vectors are "
                    + dims + " long");
        }
        float[][] vectors = vectors(inputs, "input");
        int total = 0;
        for (int[] in : inputs) {
            total += in.length;
        }
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (int i = 0; i < vectors.length; i++) {
            ObjectNode e = data.addObject();
            e.put("object", "embedding");
            e.put("index", i);
            if (encoding.equals("base64")) {
                ByteBuffer b = ByteBuffer.allocate(4 * vectors[i].length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(vectors[i]);
                e.put("embedding", Base64.getEncoder().encodeToString(b.array()));
            } else {
                ArrayNode v = e.putArray("embedding");
                for (float x : vectors[i]) {
                    v.add(x);
                }
            }
        }
        o.put("model", state.modelId());
        o.putObject("usage").put("prompt_tokens", total).put("total_tokens", total);
        RequestLog.of(req).tokens(total);
        Responses.sendJson(res, 200, o);
    }

    /** The tokenizer that embedding inputs are written in: the encoder's, or the generative model's. */
    dev.vellama.runtime.tokenizer.Tokenizer tokenizer() {
        dev.vellama.runtime.EncoderModel encoder = state.encoder();
        return encoder != null ? encoder.tokenizer() : state.engine().model().tokenizer();
    }

    /**
     * One vector per input, computed beside the engine one request at a time; an input longer than the model's
     * context is a 400 naming {@code field}.
     */
    float[][] vectors(int[][] inputs, String field) throws InterruptedException {
        dev.vellama.runtime.EncoderModel encoder = state.encoder();
        Model model = encoder == null ? state.engine().model() : null;
        int longest = 1;
        for (int[] in : inputs) {
            longest = Math.max(longest, in.length);
        }
        one.acquire();
        try {
            return encoder != null ? encoder.embedTokens(inputs, Embeddings.Options.defaults())
                    : Embeddings.computeTokens(model, inputs, Embeddings.Options.defaults().withThreads(state.engine().threads()), longest);
        } catch (ContextOverflowException e) {
            throw new ApiException(400, "invalid_request_error", "context_length_exceeded", field, e.getMessage());
        } finally {
            one.release();
        }
    }

    private static int[][] inputs(Json j, dev.vellama.runtime.tokenizer.Tokenizer model) {
        return inputs(j, "input", model);
    }

    /** {@code field}: a string, a list of strings, a list of token ids, or a list of such lists. */
    static int[][] inputs(Json j, String field, dev.vellama.runtime.tokenizer.Tokenizer model) {
        JsonNode in = j.node(field);
        if (in == null) {
            throw ApiException.badField(field, "'" + field + "' is required");
        }
        List<int[]> out = new ArrayList<>();
        if (in.isTextual()) {
            out.add(tokens(in.asText(), field, model));
        } else if (in.isArray() && !in.isEmpty() && in.get(0).isIntegralNumber()) {
            out.add(ids(in, field, model));
        } else if (in.isArray() && !in.isEmpty()) {
            for (JsonNode e : in) {
                if (e.isTextual()) {
                    out.add(tokens(e.asText(), field, model));
                } else if (e.isArray() && !e.isEmpty()) {
                    out.add(ids(e, field, model));
                } else {
                    throw ApiException.badField(field, "'" + field + "' must be a string, a list of strings, or token ids");
                }
            }
        } else {
            throw ApiException.badField(field, "'" + field + "' must be a non-empty string, list of strings, or token ids");
        }
        if (out.size() > MAX_INPUTS) {
            throw ApiException.badField(field, "at most " + MAX_INPUTS + " inputs per request");
        }
        return out.toArray(int[][]::new);
    }

    private static int[] tokens(String text, String field, dev.vellama.runtime.tokenizer.Tokenizer model) {
        if (text.isEmpty()) {
            throw ApiException.badField(field, "'" + field + "' must not hold an empty string");
        }
        return model.encode(text, true, true);
    }

    private static int[] ids(JsonNode list, String field, dev.vellama.runtime.tokenizer.Tokenizer model) {
        int vocab = model.vocabSize();
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode e = list.get(i);
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0 || e.asInt() >= vocab) {
                throw ApiException.badField(field, "'" + field + "' token ids must be integers in [0, " + vocab + ")");
            }
            ids[i] = e.asInt();
        }
        return ids;
    }
}
