package dev.vellama.langchain4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.rag.content.Content;
import dev.langchain4j.rag.content.ContentMetadata;
import dev.langchain4j.rag.content.aggregator.ReRankingContentAggregator;
import dev.langchain4j.rag.content.retriever.EmbeddingStoreContentRetriever;
import dev.langchain4j.rag.query.Query;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import dev.vellama.runtime.EncoderModel;
import dev.vellama.testdata.TinyBert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retrieval as LangChain4j applications build it: segments embedded by an encoder into LangChain4j's in-memory
 * store, retrieved by its content retriever, and re-ranked by its {@code ReRankingContentAggregator} with a
 * Vellama reranker: the vectors are the encoder's, the order and scores the reranker's.
 */
class VellamaRetrievalTest {
    private static final List<String> DOCS = List.of("The giant panda is a bear native to China.",
            "Paris is the capital of France.", "Pandas eat bamboo most of the day.", "The cat sat on the mat.");

    @Test
    void anEncoderRetrievesAndARerankerOrders(@TempDir Path dir) throws Exception {
        try (EncoderModel bert = EncoderModel.load(TinyBert.write(dir.resolve("bert.gguf")), 2);
             EncoderModel reranker = EncoderModel.load(TinyBert.writeReranker(dir.resolve("rr.gguf"), true), 2)) {
            VellamaEmbeddingModel embeddings = new VellamaEmbeddingModel(bert);
            assertEquals(bert.embeddingLength(), embeddings.dimension());
            List<TextSegment> segments = DOCS.stream().map(TextSegment::from).toList();
            List<Embedding> vectors = embeddings.embedAll(segments).content();
            assertArrayEquals(bert.embed(List.of(DOCS.get(2)))[0], vectors.get(2).vector(), 1e-6f);

            InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
            store.addAll(vectors, segments);
            Query query = Query.from("what is a panda?");
            List<Content> retrieved = EmbeddingStoreContentRetriever.builder().embeddingStore(store)
                    .embeddingModel(embeddings).maxResults(DOCS.size()).build().retrieve(query);
            assertEquals(DOCS.size(), retrieved.size());

            List<Content> ranked = ReRankingContentAggregator.builder().scoringModel(new VellamaScoringModel(reranker))
                    .build().aggregate(Map.<Query, Collection<List<Content>>>of(query, List.of(retrieved)));
            float[] scores = reranker.rank("what is a panda?", DOCS);
            assertEquals(DOCS.size(), ranked.size());
            double last = Double.POSITIVE_INFINITY;
            for (Content c : ranked) {
                int i = DOCS.indexOf(c.textSegment().text());
                double score = ((Number) c.metadata().get(ContentMetadata.RERANKED_SCORE)).doubleValue();
                assertEquals(scores[i], score, 1e-6);
                assertEquals(true, score <= last, "best first");
                last = score;
            }
            assertThrows(IllegalArgumentException.class, () -> new VellamaScoringModel(bert));
        }
    }
}
