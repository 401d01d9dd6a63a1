package dev.vellama.runtime;

import java.util.List;
import java.util.Locale;

import dev.vellama.VellamaException;

/**
 * Text embeddings as llama-embedding computes them: each text tokenized with the model's special tokens, evaluated
 * on its own from an empty cache, its tokens' hidden states after the final norm pooled into one vector (mean, the
 * first token, or the last), then normalized (Euclidean by default). Decoder models (llama, qwen2, qwen3, ...) are
 * evaluated causally, as llama.cpp evaluates them.
 */
public final class Embeddings {
    private Embeddings() {}

    /** How token vectors become one: llama.cpp's pooling types. */
    public enum Pooling {
        /** The average of all the text's token vectors (pooling_type 1). */
        MEAN(1),
        /** The first token's vector, [CLS] in BERT models (pooling_type 2). */
        CLS(2),
        /** The last token's vector (pooling_type 3). */
        LAST(3);

        final int id;

        Pooling(int id) {
            this.id = id;
        }

        /**
         * A pooling by llama.cpp's name ({@code mean}, {@code cls}, {@code last}), as {@code --pooling} takes it.
         *
         * @param name the name, any case
         * @return the pooling
         * @throws VellamaException if the name is none of the three ({@code none} and {@code rank} included)
         */
        public static Pooling parse(String name) {
            for (Pooling p : values()) {
                if (p.name().equalsIgnoreCase(name)) {
                    return p;
                }
            }
            throw new VellamaException("pooling '" + name + "' is not one of mean, cls, last"
                    + (name.equalsIgnoreCase("none") || name.equalsIgnoreCase("rank") ? " (per-token and rank outputs are not supported)" : ""));
        }
    }

    /**
     * The pooling (null: the model's {@code <arch>.pooling_type}, mean where it names none), the normalization
     * (llama.cpp's {@code --embd-normalize}: -1 none, 0 max-absolute scaled to int16, 1 taxicab, 2 Euclidean, p > 2
     * the p-norm), and the threads.
     *
     * @param pooling   how token vectors become one; null for the model's own
     * @param normalize llama.cpp's {@code --embd-normalize} value: -1, 0, 1, 2 or a p above 2
     * @param threads   compute threads of the evaluation
     */
    public record Options(Pooling pooling, int normalize, int threads) {
        /** {@return the model's pooling, Euclidean normalization and one thread per available processor} */
        public static Options defaults() {
            return new Options(null, 2, Runtime.getRuntime().availableProcessors());
        }

        /**
         * These options with another pooling.
         *
         * @param p the pooling; null for the model's own
         * @return a new options record
         */
        public Options withPooling(Pooling p) {
            return new Options(p, normalize, threads);
        }

        /**
         * These options with another normalization.
         *
         * @param n llama.cpp's {@code --embd-normalize} value: -1 none, 0 int16 scale, 1 taxicab, 2 Euclidean, p &gt; 2
         *          the p-norm
         * @return a new options record
         */
        public Options withNormalize(int n) {
            return new Options(pooling, n, threads);
        }

        /**
         * These options with another thread count.
         *
         * @param n compute threads of the evaluation
         * @return a new options record
         */
        public Options withThreads(int n) {
            return new Options(pooling, normalize, n);
        }
    }

    /**
     * The pooling a model asks for in its metadata, mean when it names none (or per-token output).
     *
     * @param model the model whose {@code <arch>.pooling_type} is read
     * @return the pooling; never null
     */
    public static Pooling modelPooling(Model model) {
        String key = model.file().architecture() + ".pooling_type";
        int type = model.file().metadata().getInt(key, 0);
        return switch (type) {
            case 2 -> Pooling.CLS;
            case 3 -> Pooling.LAST;
            default -> Pooling.MEAN;
        };
    }

    /**
     * One vector per text. Thread-safe: each call evaluates in a session of its own (sessions of a model share its
     * worker pool).
     *
     * @param model   the model to evaluate with
     * @param texts   the texts, each tokenized with BOS/EOS as the model's tokenizer adds them and special tokens parsed
     * @param options pooling, normalization and threads
     * @return one new vector of the model's embedding length per text, in the order of {@code texts}
     * @throws ContextOverflowException if a text is longer than the model's training context
     * @throws VellamaException if a text gives no tokens, or the normalization is not a valid value
     */
    public static float[][] compute(Model model, List<String> texts, Options options) {
        int[][] tokens = new int[texts.size()][];
        int longest = 1;
        for (int i = 0; i < texts.size(); i++) {
            tokens[i] = model.tokenizer().encode(texts.get(i), true, true);
            if (tokens[i].length == 0) {
                throw new VellamaException("text " + i + " gives no tokens");
            }
            longest = Math.max(longest, tokens[i].length);
        }
        return computeTokens(model, tokens, options, longest);
    }

    /**
     * {@link #compute} for texts already tokenized.
     *
     * @param model   the model to evaluate with
     * @param tokens  each text's token ids, none empty
     * @param options pooling, normalization and threads
     * @param longest the length of the longest entry of {@code tokens}, checked against the training context and
     *                used to size the batch buffers
     * @return one new vector of the model's embedding length per text, in the order of {@code tokens}
     * @throws ContextOverflowException if {@code longest} is more than the model's training context
     */
    public static float[][] computeTokens(Model model, int[][] tokens, Options options, int longest) {
        int trained = model.config().contextLength();
        if (trained > 0 && longest > trained) {
            throw new ContextOverflowException("a text of " + longest + " tokens is longer than the model's context of " + trained);
        }
        Pooling pooling = options.pooling() != null ? options.pooling() : modelPooling(model);
        int d = model.config().embeddingLength();
        float[][] out = new float[tokens.length][];
        // texts go through the model together, up to a batch of tokens per pass, each in a cache of its own so
        // that none attends to another; a text longer than the batch goes alone through a session, in chunks
        int groupLimit = Math.max(BATCH_TOKENS, 1);
        dev.vellama.runtime.model.ForwardPass pass = new dev.vellama.runtime.model.ForwardPass(model.config(), model.weights(),
                model.kernels(options.threads()), Math.max(8, Math.min(longest, groupLimit)), groupLimit);
        try {
            for (int first = 0; first < tokens.length; ) {
                if (tokens[first].length > groupLimit) {
                    try (Session s = model.newSession(SessionOptions.defaults().withContextSize(tokens[first].length)
                            .withBatchSize(groupLimit).withThreads(options.threads()))) {
                        out[first] = normalize(pool(s.hiddenStates(tokens[first]), tokens[first].length, d, pooling),
                                options.normalize());
                    }
                    first++;
                    continue;
                }
                int last = first;
                int total = 0;
                while (last < tokens.length && tokens[last].length <= groupLimit && total + tokens[last].length <= groupLimit) {
                    total += tokens[last].length;
                    last++;
                }
                int[] all = new int[total];
                dev.vellama.runtime.model.ForwardPass.Segment[] segments = new dev.vellama.runtime.model.ForwardPass.Segment[last - first];
                for (int i = first, row = 0; i < last; i++) {
                    System.arraycopy(tokens[i], 0, all, row, tokens[i].length);
                    segments[i - first] = new dev.vellama.runtime.model.ForwardPass.Segment(dev.vellama.runtime.model.KvCache.of(
                            model.config(), 0, tokens[i].length, dev.vellama.gguf.GgmlType.F16, dev.vellama.gguf.GgmlType.F16),
                            row, tokens[i].length, 0);
                    row += tokens[i].length;
                }
                float[] hidden = pass.forwardBatchHidden(all, total, segments, segments.length);
                for (int i = first; i < last; i++) {
                    int row = segments[i - first].row();
                    float[] mine = java.util.Arrays.copyOfRange(hidden, row * d, (row + tokens[i].length) * d);
                    out[i] = normalize(pool(mine, tokens[i].length, d, pooling), options.normalize());
                }
                first = last;
            }
        } finally {
            pass.close();
        }
        return out;
    }

    /** Tokens of several texts evaluated in one pass, as llama-embedding's default batch. */
    private static final int BATCH_TOKENS = 2048;

    static float[] pool(float[] hidden, int n, int d, Pooling pooling) {
        float[] v = new float[d];
        switch (pooling) {
            case MEAN -> {
                for (int t = 0; t < n; t++) {
                    for (int j = 0; j < d; j++) {
                        v[j] += hidden[t * d + j];
                    }
                }
                float inv = 1f / n;
                for (int j = 0; j < d; j++) {
                    v[j] *= inv;
                }
            }
            case CLS -> System.arraycopy(hidden, 0, v, 0, d);
            case LAST -> System.arraycopy(hidden, (n - 1) * d, v, 0, d);
        }
        return v;
    }

    /** llama.cpp's {@code common_embd_normalize}. */
    static float[] normalize(float[] v, int norm) {
        double sum = 0;
        switch (norm) {
            case -1 -> sum = 1;
            case 0 -> {
                for (float x : v) {
                    sum = Math.max(sum, Math.abs(x));
                }
                sum /= 32760.0; // max absolute value mapped onto int16's range
            }
            case 2 -> {
                for (float x : v) {
                    sum += (double) x * x;
                }
                sum = Math.sqrt(sum);
            }
            default -> {
                if (norm < -1) {
                    throw new VellamaException(String.format(Locale.ROOT, "normalization %d is not one of -1, 0, 1, 2 or p > 2", norm));
                }
                for (float x : v) {
                    sum += Math.pow(Math.abs(x), norm);
                }
                sum = Math.pow(sum, 1.0 / norm);
            }
        }
        float scale = sum > 0 ? (float) (1.0 / sum) : 0f;
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * scale;
        }
        return out;
    }
}
