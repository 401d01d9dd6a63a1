package dev.vellama.langchain4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.vellama.runtime.EncoderModel;
import dev.vellama.runtime.Model;

/**
 * LangChain4j's {@link EmbeddingModel} on a Vellama {@link Model} or on an {@link EncoderModel} (BERT, nomic-bert):
 * llama-embedding's vectors (the model's pooling, Euclidean-normalized; {@link Model#embed},
 * {@link EncoderModel#embed}), thread-safe.
 */
public final class VellamaEmbeddingModel implements EmbeddingModel {
    private final Function<List<String>, float[][]> embed;
    private final int dimension;
    private final String name;

    /**
     * An embedding model on a generative {@code model}.
     *
     * @param model the loaded model, which stays its caller's to close
     */
    public VellamaEmbeddingModel(Model model) {
        Objects.requireNonNull(model, "model");
        this.embed = model::embed;
        this.dimension = model.config().embeddingLength();
        this.name = model.name();
    }

    /**
     * An embedding model on an encoder, the usual kind for retrieval.
     *
     * @param encoder the loaded encoder, which stays its caller's to close
     */
    public VellamaEmbeddingModel(EncoderModel encoder) {
        Objects.requireNonNull(encoder, "encoder");
        this.embed = encoder::embed;
        this.dimension = encoder.embeddingLength();
        this.name = encoder.name();
    }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        float[][] vectors = embed.apply(segments.stream().map(TextSegment::text).toList());
        List<Embedding> out = new ArrayList<>(vectors.length);
        for (float[] v : vectors) {
            out.add(Embedding.from(v));
        }
        return Response.from(out);
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public String modelName() {
        return name;
    }
}
