package dev.vellama.langchain4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.scoring.ScoringModel;
import dev.vellama.runtime.EncoderModel;

/**
 * LangChain4j's {@link ScoringModel} on a reranker ({@link EncoderModel#ranks}): each segment's relevance to the
 * query as {@link EncoderModel#rank} scores it (the classification head's logit, higher is better), for
 * {@code ReRankingContentAggregator} and the like. Thread-safe.
 */
public final class VellamaScoringModel implements ScoringModel {
    private final EncoderModel reranker;

    /**
     * A scoring model on {@code reranker}.
     *
     * @param reranker the loaded reranker, which stays its caller's to close
     * @throws IllegalArgumentException if the model has no classification head
     */
    public VellamaScoringModel(EncoderModel reranker) {
        this.reranker = Objects.requireNonNull(reranker, "reranker");
        if (!reranker.ranks()) {
            throw new IllegalArgumentException(reranker.name() + " is not a reranker: it has no classification head");
        }
    }

    @Override
    public Response<List<Double>> scoreAll(List<TextSegment> segments, String query) {
        float[] scores = reranker.rank(query, segments.stream().map(TextSegment::text).toList());
        List<Double> out = new ArrayList<>(scores.length);
        for (float s : scores) {
            out.add((double) s);
        }
        return Response.from(out);
    }
}
