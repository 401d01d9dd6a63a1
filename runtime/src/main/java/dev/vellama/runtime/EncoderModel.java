package dev.vellama.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.model.BertPass;
import dev.vellama.runtime.model.ClassifierHead;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * An embedding model of the BERT family ({@code general.architecture} {@code bert}: BERT, BGE, MiniLM; or
 * {@code nomic-bert}: nomic-embed): WordPiece
 * tokens framed by [CLS] and [SEP], a bidirectional encoder, and pooling by the model's {@code <arch>.pooling_type}
 * (mean, cls or last; mean when it names none), normalized as llama-embedding normalizes. A reranker (a file with
 * a classification head, {@code cls.weight}) also scores query-document pairs ({@link #rank}). Thread-safe: calls
 * take turns on the model's buffers and compute threads.
 */
public final class EncoderModel implements AutoCloseable {
    private final GgufFile file;
    private final Tokenizer tokenizer;
    private final Kernels kernels;
    private final BertPass pass;
    /** The reranker's head, or null for an embedding model. */
    private final ClassifierHead head;
    private final ReentrantLock lock = new ReentrantLock();
    /** Tokens of several texts evaluated in one pass, as llama-embedding's default batch. */
    private static final int BATCH_TOKENS = 2048;

    private EncoderModel(GgufFile file, int threads) {
        this.file = file;
        this.tokenizer = Tokenizer.fromGguf(file.metadata());
        this.kernels = Kernels.create(threads);
        try {
            this.pass = new BertPass(file, kernels);
            this.head = ClassifierHead.of(file, pass.embeddingLength(), kernels);
        } catch (RuntimeException e) {
            kernels.close();
            throw e;
        }
    }

    /**
     * Whether a file holds an encoder this class runs ({@code bert}, {@code nomic-bert}).
     *
     * @param file an open GGUF file
     * @return true when its {@code general.architecture} is one this class runs
     */
    public static boolean isEncoder(GgufFile file) {
        return "bert".equals(file.architecture()) || "nomic-bert".equals(file.architecture());
    }

    /**
     * Maps a {@code bert} GGUF and checks its tensors.
     *
     * @param path    the GGUF file
     * @param threads compute threads of the model's kernels (at least 1 is used)
     * @return the loaded model; close it to unmap the file and stop its threads
     * @throws IOException if the file cannot be opened or read
     * @throws UnsupportedModelException for another architecture or a missing or misshapen tensor
     */
    public static EncoderModel load(Path path, int threads) throws IOException {
        GgufFile file = GgufFile.open(path);
        try {
            if (!isEncoder(file)) {
                throw new UnsupportedModelException("'" + file.architecture() + "' is not an encoder architecture (bert, nomic-bert)");
            }
            return new EncoderModel(file, Math.max(1, threads));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** {@return the model's WordPiece tokenizer, read from the file's metadata} */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** {@return the model's {@code general.name}, else its file name} */
    public String name() {
        String n = file.metadata().getString("general.name", null);
        return n != null ? n : file.path() == null ? "encoder" : file.path().getFileName().toString();
    }

    /** {@return the length of the embeddings this model returns (its hidden size)} */
    public int embeddingLength() {
        return pass.embeddingLength();
    }

    /**
     * One embedding per text, with the model's pooling and Euclidean normalization.
     *
     * @param texts the texts, each framed by [CLS] and [SEP]
     * @return one new vector per text, in the order of {@code texts}
     * @throws ContextOverflowException if a text has more tokens than the model has positions
     */
    public float[][] embed(List<String> texts) {
        return embed(texts, Embeddings.Options.defaults());
    }

    /**
     * One embedding per text ({@code options.threads()} is fixed when the model is loaded).
     *
     * @param texts   the texts, each framed by [CLS] and [SEP]
     * @param options pooling (null: the model's) and normalization
     * @return one new vector per text, in the order of {@code texts}
     * @throws ContextOverflowException if a text has more tokens than the model has positions
     */
    public float[][] embed(List<String> texts, Embeddings.Options options) {
        int[][] tokens = new int[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            tokens[i] = tokenizer.encode(texts.get(i), true, true);
        }
        return embedTokens(tokens, options);
    }

    /**
     * {@link #embed} for texts already tokenized (with [CLS] and [SEP] where the model wants them).
     *
     * @param tokens  each text's token ids
     * @param options pooling (null: the model's) and normalization; its thread count is ignored
     * @return one new vector per text, in the order of {@code tokens}
     * @throws ContextOverflowException if a text has more tokens than the model has positions
     */
    public float[][] embedTokens(int[][] tokens, Embeddings.Options options) {
        Embeddings.Pooling pooling = options.pooling() != null ? options.pooling()
                : switch (file.metadata().getInt(file.architecture() + ".pooling_type", 1)) {
                    case 2 -> Embeddings.Pooling.CLS;
                    case 3 -> Embeddings.Pooling.LAST;
                    default -> Embeddings.Pooling.MEAN;
                };
        float[][] out = new float[tokens.length][];
        int d = pass.embeddingLength();
        evaluate(tokens, (i, hidden, from, to) -> {
            float[] mine = java.util.Arrays.copyOfRange(hidden, from * d, to * d);
            out[i] = Embeddings.normalize(Embeddings.pool(mine, to - from, d, pooling), options.normalize());
        });
        return out;
    }

    /** {@return whether the model has a reranker's classification head ({@code cls.weight}), so that {@link #rank} works} */
    public boolean ranks() {
        return head != null;
    }

    /**
     * Relevance scores of documents for a query, as llama-server's {@code /rerank} computes them: each pair laid out
     * by {@link Tokenizer#rerankPair}, evaluated, and scored by the classification head from its first token. A higher
     * score is a better match; scores are the head's raw outputs (logits), not probabilities.
     *
     * @param query     the query
     * @param documents the documents to score
     * @return one score per document, in the order of {@code documents}
     * @throws UnsupportedModelException if the model has no classification head (see {@link #ranks})
     * @throws ContextOverflowException if a pair has more tokens than the model has positions
     */
    public float[] rank(String query, List<String> documents) {
        return rankTokens(rerankPairs(query, documents));
    }

    /**
     * The sequences {@link #rank} scores: the query and each document tokenized (no special tokens around them)
     * and laid out by {@link Tokenizer#rerankPair}.
     *
     * @param query     the query
     * @param documents the documents
     * @return one token sequence per document
     */
    public int[][] rerankPairs(String query, List<String> documents) {
        int[] q = tokenizer.encode(query, false, false);
        int[][] pairs = new int[documents.size()][];
        for (int i = 0; i < pairs.length; i++) {
            pairs[i] = tokenizer.rerankPair(q, tokenizer.encode(documents.get(i), false, false));
        }
        return pairs;
    }

    /**
     * {@link #rank} for sequences already laid out (such as by {@link Tokenizer#rerankPair}).
     *
     * @param tokens each pair's token ids
     * @return one score per sequence
     * @throws UnsupportedModelException if the model has no classification head
     * @throws ContextOverflowException if a sequence has more tokens than the model has positions
     */
    public float[] rankTokens(int[][] tokens) {
        if (head == null) {
            throw new UnsupportedModelException("the model has no classification head (cls.weight): it is not a reranker");
        }
        float[] scores = new float[tokens.length];
        int d = pass.embeddingLength();
        evaluate(tokens, (i, hidden, from, to) -> scores[i] = head.score(hidden, from * d));
        return scores;
    }

    /** What {@link #evaluate} hands over per sequence: its rows [from, to) of the pass's hidden states. */
    private interface SequenceSink {
        void accept(int index, float[] hidden, int from, int to);
    }

    /** Runs the sequences through the encoder, several at a time, and hands each one's hidden states to {@code sink}. */
    private void evaluate(int[][] tokens, SequenceSink sink) {
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].length > pass.contextLength()) {
                throw new ContextOverflowException("text " + i + " has " + tokens[i].length + " tokens, more than the model's "
                        + pass.contextLength() + " positions");
            }
        }
        // texts go through the encoder together, up to a batch of tokens at a time: one read of the weights for all
        for (int first = 0; first < tokens.length; ) {
            int last = first;
            int total = 0;
            while (last < tokens.length && (last == first || total + tokens[last].length <= BATCH_TOKENS)) {
                total += tokens[last].length;
                last++;
            }
            int[] all = new int[total];
            int[] bounds = new int[last - first + 1];
            for (int i = first, at = 0; i < last; i++) {
                System.arraycopy(tokens[i], 0, all, at, tokens[i].length);
                at += tokens[i].length;
                bounds[i - first + 1] = at;
            }
            float[] hidden;
            lock.lock();
            try {
                hidden = pass.forward(all, bounds);
                for (int i = first; i < last; i++) {
                    sink.accept(i, hidden, bounds[i - first], bounds[i - first + 1]);
                }
            } finally {
                lock.unlock();
            }
            first = last;
        }
    }

    @Override
    public void close() {
        kernels.close();
        file.close();
    }
}
