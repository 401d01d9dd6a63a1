package dev.vellama.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import dev.vellama.gguf.GgufFile;
import dev.vellama.quant.Kernels;
import dev.vellama.runtime.chat.ChatTemplate;
import dev.vellama.runtime.model.ModelWeights;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * A loaded model: its memory-mapped GGUF file, configuration, weights, tokenizer and chat template. Immutable
 * after loading and safe to share between threads; each conversation runs in its own {@link Session}.
 *
 * <p>Threads: the CPU sessions of one model share one worker pool per thread count (made by the first session that
 * asks for it), so ten sessions of a 2-thread model run on two compute threads, not twenty spinning ones. Sessions
 * used from different threads at once take turns kernel by kernel on that pool: each is correct, but together
 * they are no faster than one after another; to serve many conversations at once with one read of the weights
 * per step for all of them, use a {@link BatchEngine}. Closing the model stops the pools and unmaps the file, so
 * close every session and engine first.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("model.gguf"));
 *      Session session = model.newSession(SessionOptions.defaults())) {
 *     GenerationResult r = session.generate("Once upon a time", GenerationParams.defaults().withMaxTokens(64),
 *             token -> System.out.print(token.text()));
 * }
 * }</pre>
 */
public final class Model implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final ModelWeights weights;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final Map<Integer, Kernels> pools = new HashMap<>();
    private boolean closed;

    private Model(GgufFile file) {
        this.file = file;
        if (file.metadata().getString("general.type", "model").equals("adapter")) {
            throw new UnsupportedModelException((file.path() == null ? "the file" : file.path().getFileName()) + " is a " + file.metadata().getString("adapter.type", "")
                    + " adapter, not a model: apply it to its base model (--lora FILE, LoraAdapter.load)");
        }
        this.tokenizer = Tokenizer.fromGguf(file.metadata());
        this.config = ModelConfig.fromGguf(file.metadata(), tokenizer.vocabSize());
        this.weights = new ModelWeights(file, config);
        this.chatTemplate = ChatTemplate.fromGguf(file.metadata());
    }

    /**
     * Maps the file and checks that every tensor this runtime needs is there, of a supported type and shape.
     *
     * @param path the GGUF file, or the first part ({@code -00001-of-N}) of a split model
     * @return the loaded model; the caller closes it to unmap the file
     * @throws IOException if the file (or one of its parts) is missing or cannot be opened or mapped
     */
    public static Model load(Path path) throws IOException {
        GgufFile file = GgufFile.open(path);
        try {
            return new Model(file);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * Opens a conversation with this model: its own KV cache and buffers, sized by {@code options}.
     *
     * @param options context size, batch size, threads, cache types and device
     * @return the new session, which the caller closes before the model
     * @throws dev.vellama.VellamaException if the KV cache does not fit the free heap, the cache types do not suit
     *                                      the model or the device, or no CUDA device can be opened
     */
    public Session newSession(SessionOptions options) {
        return new Session(this, options);
    }

    /** {@return the hyperparameters read from the GGUF metadata: layers, heads, dimensions, rope, vocabulary} */
    public ModelConfig config() {
        return config;
    }

    /** {@return the tokenizer built from the GGUF's {@code tokenizer.*} metadata} */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** {@return the chat template from {@code tokenizer.chat_template}, or the fallback format without one} */
    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    /**
     * The tokens of a conversation rendered with the model's chat template, with a generation prompt (BOS as the
     * model says, special tokens parsed; a BOS the template wrote itself is not doubled).
     *
     * @param messages the conversation so far, oldest first; the reply answers the last one
     * @return the prompt's token ids, a new array
     * @throws dev.vellama.runtime.chat.ChatTemplateException if the template fails or rejects the conversation
     */
    public int[] chatPrompt(java.util.List<dev.vellama.runtime.chat.ChatMessage> messages) {
        return chatPrompt(messages, chatTemplate);
    }

    /**
     * {@link #chatPrompt(java.util.List)} rendered with {@code template} instead of the model's own.
     *
     * @param messages the conversation so far, oldest first
     * @param template the chat template to render it with
     * @return the prompt's token ids, a new array
     * @throws dev.vellama.runtime.chat.ChatTemplateException if the template fails or rejects the conversation
     */
    public int[] chatPrompt(java.util.List<dev.vellama.runtime.chat.ChatMessage> messages, ChatTemplate template) {
        return chatPrompt(messages, template, true);
    }

    /**
     * As {@link #chatPrompt(java.util.List, ChatTemplate)}, with or without the header that opens the reply.
     *
     * @param messages            the conversation so far, oldest first
     * @param template            the chat template to render it with
     * @param addGenerationPrompt whether to end with the header that opens the assistant's reply (the template's
     *                            {@code add_generation_prompt})
     * @return the prompt's token ids, a new array
     * @throws dev.vellama.runtime.chat.ChatTemplateException if the template fails or rejects the conversation
     */
    public int[] chatPrompt(java.util.List<dev.vellama.runtime.chat.ChatMessage> messages, ChatTemplate template,
            boolean addGenerationPrompt) {
        return tokenizeChat(template.render(messages, addGenerationPrompt));
    }

    /**
     * A reply's prompt rendered with extra template variables (such as {@code tools}) and ending in
     * {@code replyPrefix}, words the reply is taken to begin with (special tokens in it are parsed).
     *
     * @param messages    the conversation so far, oldest first
     * @param template    the chat template to render it with
     * @param variables   extra template variables by name, which may override the standard ones
     * @param replyPrefix text appended after the generation prompt; empty for none
     * @return the prompt's token ids, a new array
     * @throws dev.vellama.runtime.chat.ChatTemplateException if the template fails or rejects the conversation
     */
    public int[] chatPrompt(java.util.List<dev.vellama.runtime.chat.ChatMessage> messages, ChatTemplate template,
            java.util.Map<String, ?> variables, String replyPrefix) {
        return tokenizeChat(template.render(messages, true, variables) + replyPrefix);
    }

    /**
     * The tokens of a chat already rendered by a template (as {@link #chatPrompt} makes them: BOS as the model says,
     * special tokens parsed, a BOS the template wrote itself not doubled).
     *
     * @param rendered the template's output, with any reply prefix
     * @return its token ids, a new array
     */
    public int[] tokenizeChat(String rendered) {
        int[] ids = tokenizer.encode(rendered, true, true);
        int bos = tokenizer.bos();
        if (ids.length >= 2 && bos >= 0 && ids[0] == bos && ids[1] == bos) {
            return java.util.Arrays.copyOfRange(ids, 1, ids.length);
        }
        return ids;
    }

    /**
     * One embedding per text (llama-embedding's: the model's pooling, Euclidean-normalized); thread-safe.
     *
     * @param texts the texts, each tokenized with BOS/EOS as the model's tokenizer adds them, special tokens parsed
     * @return one new vector of the model's embedding length per text, in the order of {@code texts}
     * @throws ContextOverflowException if a text is longer than the model's training context
     * @see Embeddings#compute for the pooling and normalization choices
     */
    public float[][] embed(java.util.List<String> texts) {
        return Embeddings.compute(this, texts, Embeddings.Options.defaults());
    }

    /**
     * A completion prompt's tokens, as llama.cpp's completion makes them: BOS as the model says, special tokens parsed.
     *
     * @param prompt the prompt text
     * @return its token ids, a new array
     */
    public int[] completionPrompt(String prompt) {
        return tokenizer.encode(prompt, true, true);
    }

    /** {@return the memory-mapped GGUF file, open until the model closes} */
    public GgufFile file() {
        return file;
    }

    /**
     * {@code general.name}, else the file name.
     *
     * @return the model's name for display; "model" for a file read from no path
     */
    public String name() {
        String n = file.metadata().getString("general.name", null);
        return n != null ? n : file.path() == null ? "model" : file.path().getFileName().toString();
    }

    /**
     * The kernels and worker pool of {@code threads} compute threads that this model's sessions share; made on
     * first use, stopped when the model closes.
     */
    synchronized Kernels kernels(int threads) {
        if (closed) {
            throw new IllegalStateException("the model is closed");
        }
        return pools.computeIfAbsent(threads, Kernels::create);
    }

    ModelWeights weights() {
        return weights;
    }

    /**
     * Parameters: elements of all tensors.
     *
     * @return the element count of every tensor in the file, summed
     */
    public long parameterCount() {
        return file.tensors().stream().mapToLong(t -> t.elementCount()).sum();
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            pools.values().forEach(Kernels::close);
            pools.clear();
        }
        file.close();
    }
}
