package dev.vellama.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.model.BertPass;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * An embedding model of the BERT family ({@code general.architecture} {@code bert}: BERT, BGE, MiniLM; or
 * {@code nomic-bert}: nomic-embed): WordPiece
 * tokens framed by [CLS] and [SEP], a bidirectional encoder, and pooling by the model's {@code <arch>.pooling_type}
 * (mean, cls or last; mean when it names none), normalized as llama-embedding normalizes. Thread-safe: calls take
 * turns on the model's buffers and compute threads.
 */
public final class EncoderModel implements AutoCloseable {
    private final GgufFile file;
    private final Tokenizer tokenizer;
    private final Kernels kernels;
    private final BertPass pass;
    private final ReentrantLock lock = new ReentrantLock();
    /** Tokens of several texts evaluated in one pass, as llama-embedding's default batch. */
    private static final int BATCH_TOKENS = 2048;

    private EncoderModel(GgufFile file, int threads) {
        this.file = file;
        this.tokenizer = Tokenizer.fromGguf(file.metadata());
        this.kernels = Kernels.create(threads);
        try {
            this.pass = new BertPass(file, kernels);
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
        for (int i = 0; i < tokens.length; i++) {
            if (tokens[i].length > pass.contextLength()) {
                throw new ContextOverflowException("text " + i + " has " + tokens[i].length + " tokens, more than the model's "
                        + pass.contextLength() + " positions");
            }
        }
        // texts go through the encoder together, up to a batch of tokens at a time: one read of the weights for all
        int d = pass.embeddingLength();
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
            } finally {
                lock.unlock();
            }
            for (int i = first; i < last; i++) {
                int b = bounds[i - first];
                float[] mine = java.util.Arrays.copyOfRange(hidden, b * d, bounds[i - first + 1] * d);
                out[i] = Embeddings.normalize(Embeddings.pool(mine, tokens[i].length, d, pooling), options.normalize());
            }
            first = last;
        }
        return out;
    }

    @Override
    public void close() {
        kernels.close();
        file.close();
    }
}
