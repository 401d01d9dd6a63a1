package dev.vellama.runtime;

import dev.vellama.VellamaException;
import java.util.List;
import java.util.function.Consumer;

import dev.vellama.quant.Kernels;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.TransformerPass;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.model.ModelConfig;

/**
 * One conversation with a model: its own KV cache and buffers, on the worker pool its model shares among the
 * sessions of the same thread count. A session remembers the tokens in its cache, so a new prompt that extends the
 * previous one (the next turn of a chat) only evaluates what is new.
 *
 * <p>Threads: not thread-safe, one generation at a time, from one thread at a time; {@link #cancel()} may be
 * called from any thread. Different sessions may run on different threads at once (they take turns on the shared
 * pool). A CUDA session binds its GPU context to the thread that made it and must be used from that thread.
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final ModelConfig config;
    private final Kernels kernels;
    private final TransformerPass pass;
    private final int contextSize;
    private final int batchSize;
    private final int[] cached;
    private int cachedLength;
    private int lastPrefillEvaluated;
    private volatile boolean cancelRequested;

    Session(Model model, SessionOptions options) {
        this.model = model;
        this.config = model.config();
        int ctx = options.contextSize() > 0 ? options.contextSize()
                : Math.min(SessionOptions.DEFAULT_CONTEXT, config.contextLength());
        this.contextSize = ctx;
        this.batchSize = Math.max(1, Math.min(options.batchSize() > 0 ? options.batchSize() : SessionOptions.DEFAULT_BATCH, ctx));
        int threads = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
        if (options.device() == SessionOptions.Device.CUDA) {
            if (options.kvCache() != KvCache.Precision.F16) {
                throw new VellamaException("the CUDA pass keeps its KV cache in F16; an F32 cache is for CPU sessions");
            }
            this.pass = openCuda(model, ctx, batchSize, threads, options.gpuLayers());
            this.kernels = model.kernels(1); // for sampling helpers; the pass brings its own CPU threads
        } else {
            checkHeapFor(config, ctx, options.kvCache());
            this.kernels = model.kernels(threads);
            KvCache cache = new KvCache(config.layerCount(), 0, ctx, config.kvDim(), options.kvCache());
            ForwardPass cpu = new ForwardPass(config, model.weights(), kernels, cache, batchSize);
            cpu.cancelWhen(() -> cancelRequested); // a long prompt stops within a layer of cancel()
            this.pass = cpu;
        }
        this.cached = new int[ctx];
    }

    /** Refuses a KV cache of {@code ctx} positions that the free Java heap cannot hold, before allocating it. */
    static void checkHeapFor(ModelConfig config, int ctx, KvCache.Precision precision) {
        long need = KvCache.bytesFor(config.layerCount(), ctx, config.kvDim(), precision);
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (need > available) {
            throw new VellamaException(String.format("a KV cache of %d positions needs %d MiB but only %d MiB of Java heap are free;"
                    + " lower the context size or raise the heap (-Xmx)", ctx, need >> 20, available >> 20));
        }
        if ((long) ctx * config.kvDim() > Integer.MAX_VALUE - 8) {
            throw new VellamaException("a context of " + ctx + " positions is too large for this model's KV cache");
        }
    }

    /** The CUDA pass; its classes load only here, so the CPU path never touches the driver bindings. */
    private static TransformerPass openCuda(Model model, int ctx, int batch, int threads, int gpuLayers) {
        try {
            return dev.vellama.runtime.cuda.CudaForwardPass.create(model.config(), model.weights(), ctx, batch,
                    gpuLayers, threads, System.err::println);
        } catch (dev.vellama.runtime.cuda.CudaUnavailableException e) {
            throw new VellamaException("--device cuda: " + e.getMessage());
        }
    }

    public Model model() {
        return model;
    }

    public int contextSize() {
        return contextSize;
    }

    public int batchSize() {
        return batchSize;
    }

    /** What the compute kernels are (vector width, threads). */
    public String kernelDescription() {
        return pass.description();
    }

    /** Tokenizes a prompt as llama.cpp's completion does: BOS as the model says, special tokens parsed. */
    public int[] tokenize(String prompt) {
        return model.completionPrompt(prompt);
    }

    public GenerationResult generate(String prompt, GenerationParams params, Consumer<GeneratedToken> onToken) {
        return generate(tokenize(prompt), params, onToken);
    }

    public GenerationResult generate(int[] promptTokens, GenerationParams params, Consumer<GeneratedToken> onToken) {
        Generation g = new Generation(this, promptTokens, params);
        while (g.hasNext()) {
            GeneratedToken t = g.next();
            if (onToken != null) {
                onToken.accept(t);
            }
        }
        return g.result();
    }

    /** Streams a generation token by token; {@link Generation#result()} gives the summary at the end. */
    public Generation stream(String prompt, GenerationParams params) {
        return new Generation(this, tokenize(prompt), params);
    }

    /** Renders the conversation with the model's chat template and answers the last message. */
    public GenerationResult chat(List<ChatMessage> messages, GenerationParams params, Consumer<GeneratedToken> onToken) {
        return generate(chatTokens(messages), params, onToken);
    }

    /** The tokens of a conversation rendered with the model's template, with a generation prompt. */
    public int[] chatTokens(List<ChatMessage> messages) {
        return model.chatPrompt(messages);
    }

    /**
     * Evaluates {@code tokens} from position 0 and returns the logits of every position, row-major
     * [position][vocab]. Used for scoring and perplexity; clears what the cache held.
     */
    public float[] evaluateAll(int[] tokens) {
        if (tokens.length == 0 || tokens.length > contextSize) {
            throw new ContextOverflowException(tokens.length + " tokens do not fit a context of " + contextSize);
        }
        int vocab = config.vocabSize();
        float[] all = new float[tokens.length * vocab];
        for (int from = 0; from < tokens.length; from += batchSize) {
            int n = Math.min(batchSize, tokens.length - from);
            float[] l = pass.forwardAll(tokens, from, n, from);
            System.arraycopy(l, 0, all, from * vocab, n * vocab);
        }
        System.arraycopy(tokens, 0, cached, 0, tokens.length);
        cachedLength = tokens.length;
        return all;
    }

    /** Forgets the cached conversation. */
    public void reset() {
        cachedLength = 0;
    }

    /** Asks the running generation to stop after the current token (stop reason CANCELLED). */
    public void cancel() {
        cancelRequested = true;
    }

    /** Tokens currently held in the KV cache. */
    public int position() {
        return cachedLength;
    }

    // --- used by Generation ---

    boolean takeCancel() {
        boolean c = cancelRequested || Thread.currentThread().isInterrupted();
        cancelRequested = false;
        return c;
    }

    void clearCancel() {
        cancelRequested = false;
    }

    /**
     * Brings the cache to hold exactly {@code tokens} and returns the logits after the last one: reuses the cached
     * prefix and evaluates the rest in chunks of the batch size (at least the last token is evaluated). Returns null
     * when {@link #cancel()} comes first (checked between layers): the cache then keeps the chunks already done.
     */
    float[] prefill(int[] tokens) {
        if (tokens.length == 0) {
            throw new VellamaException("the prompt is empty: it has no tokens");
        }
        if (tokens.length > contextSize) {
            throw new ContextOverflowException("the prompt has " + tokens.length + " tokens but the context holds "
                    + contextSize + "; use a larger context (--ctx) or a shorter prompt");
        }
        int keep = 0;
        while (keep < cachedLength && keep < tokens.length && cached[keep] == tokens[keep]) {
            keep++;
        }
        keep = Math.min(keep, tokens.length - 1);
        float[] logits = null;
        cachedLength = keep;
        lastPrefillEvaluated = 0;
        for (int from = keep; from < tokens.length; from += batchSize) {
            int n = Math.min(batchSize, tokens.length - from);
            if (cancelRequested) {
                return null;
            }
            try {
                logits = pass.forwardLast(tokens, from, n, from);
            } catch (java.util.concurrent.CancellationException e) {
                return null; // the cache holds the chunks before this one
            }
            System.arraycopy(tokens, from, cached, from, n);
            cachedLength = from + n;
            lastPrefillEvaluated += n;
        }
        return logits;
    }

    /**
     * Appends one token to the cache and returns the logits after it; null when {@link #cancel()} stopped the pass
     * (the token is then not in the cache).
     */
    float[] step(int token) {
        if (cachedLength >= contextSize) {
            throw new ContextOverflowException("the context of " + contextSize + " tokens is full");
        }
        cached[cachedLength] = token;
        float[] logits;
        try {
            logits = pass.forwardLast(cached, cachedLength, 1, cachedLength);
        } catch (java.util.concurrent.CancellationException e) {
            return null;
        }
        cachedLength++;
        return logits;
    }

    Kernels kernels() {
        return kernels;
    }

    /** Prompt tokens the last prefill evaluated (the rest came from the cache). */
    int lastPrefillEvaluated() {
        return lastPrefillEvaluated;
    }

    int[] cachedTokens() {
        return cached;
    }

    /** Frees the pass (GPU memory for a CUDA session); the shared worker pool stays with the model. */
    @Override
    public void close() {
        pass.close();
    }
}
