package dev.vellama.langchain4j;

import java.util.ArrayList;
import java.util.List;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.vellama.runtime.Model;

/**
 * LangChain4j's {@link EmbeddingModel} on a Vellama {@link Model}: llama-embedding's vectors (the model's pooling,
 * Euclidean-normalized; {@link Model#embed}), thread-safe.
 */
public final class VellamaEmbeddingModel implements EmbeddingModel {
    private final Model model;

    /**
     * An embedding model on {@code model}.
     *
     * @param model the loaded model, which stays its caller's to close
     */
    public VellamaEmbeddingModel(Model model) {
        this.model = java.util.Objects.requireNonNull(model, "model");
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        float[][] vectors = model.embed(segments.stream().map(TextSegment::text).toList());
        List<Embedding> out = new ArrayList<>(vectors.length);
        for (float[] v : vectors) {
            out.add(Embedding.from(v));
        }
        return Response.from(out);
    }

    @Override
    public int dimension() {
        return model.config().embeddingLength();
    }

    @Override
    public String modelName() {
        return model.name();
    }
}
