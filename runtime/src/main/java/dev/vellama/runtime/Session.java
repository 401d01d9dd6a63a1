package dev.vellama.runtime;

import dev.vellama.VellamaException;
import java.util.List;
import java.util.function.Consumer;

import dev.vellama.quant.Kernels;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.chat.ChatTemplate;
import dev.vellama.runtime.model.ForwardPass;
import dev.vellama.runtime.model.TransformerPass;
import dev.vellama.runtime.model.KvCache;

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
    private final CacheType cacheTypeK;
    private final CacheType cacheTypeV;
    private final int batchSize;
    private final int[] cached;     // the tokens whose keys and values the cache holds, cell by cell
    private int cachedLength;
    // every token since the last reset, forgotten ones included: the cache holds history[0, keptPrefix) and
    // history[keptPrefix + forgotten, historyLength), since each context shift forgets the oldest cells after the
    // same kept prefix
    private int[] history = new int[256];
    private int historyLength;
    private int keptPrefix;
    private int forgotten;
    private int forgottenSinceMark;
    private int lastPrefillEvaluated;
    private volatile boolean cancelRequested;
    private Session draft;
    private int draftMax;
    private float draftMinProbability;
    private float[] draftProbabilities;
    private long drafted;
    private long draftsAccepted;
    private final dev.vellama.runtime.model.ActivationHooks hooks;

    Session(Model model, SessionOptions options) {
        this.model = model;
        this.config = model.config();
        int ctx = options.contextSize() > 0 ? options.contextSize()
                : Math.min(SessionOptions.DEFAULT_CONTEXT, config.contextLength());
        this.contextSize = ctx;
        this.cacheTypeK = options.cacheTypeK();
        this.cacheTypeV = options.cacheTypeV();
        this.batchSize = Math.max(1, Math.min(options.batchSize() > 0 ? options.batchSize() : SessionOptions.DEFAULT_BATCH, ctx));
        int threads = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
        if (options.device() == SessionOptions.Device.CUDA) {
            this.pass = openCuda(model, ctx, batchSize, threads, options.gpuLayers(), options.cacheTypeK(),
                    options.cacheTypeV());
            this.kernels = model.kernels(1); // for sampling helpers; the pass brings its own CPU threads
        } else {
            checkHeapFor(config, ctx, 1, options.cacheTypeK(), options.cacheTypeV(), batchSize);
            this.kernels = model.kernels(threads);
            KvCache cache = KvCache.of(config, 0, ctx, options.cacheTypeK().ggmlType(), options.cacheTypeV().ggmlType(),
                    batchSize);
            ForwardPass cpu = new ForwardPass(config, model.weights(), kernels, cache, batchSize);
            cpu.cancelWhen(() -> cancelRequested); // a long prompt stops within a layer of cancel()
            this.pass = cpu;
        }
        this.cached = new int[ctx];
        this.hooks = new dev.vellama.runtime.model.ActivationHooks(config.layerCount());
    }

    /**
     * Refuses {@code caches} KV caches of {@code ctx} positions each, written in chunks of {@code maxChunk} tokens,
     * that the free Java heap cannot hold, before allocating them.
     */
    static void checkHeapFor(ModelConfig config, int ctx, int caches, CacheType keys, CacheType values, int maxChunk) {
        for (int l = 0; l < config.layerCount(); l++) {
            int hd = config.headDim(l);
            if (hd % keys.ggmlType().blockSize() != 0 || hd % values.ggmlType().blockSize() != 0) {
                throw new VellamaException("this model's heads of " + hd + " values do not divide into blocks of 32:"
                        + " use an f16, bf16 or f32 cache");
            }
        }
        long need = caches * KvCache.bytesFor(config, ctx, keys.ggmlType(), values.ggmlType(), maxChunk);
        Runtime rt = Runtime.getRuntime();
        long available = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        if (need > available) {
            throw new VellamaException(String.format("a KV cache of %d positions needs %d MiB but only %d MiB of Java heap are free;"
                    + " lower the context size or raise the heap (-Xmx)", (long) ctx * caches, need >> 20, available >> 20));
        }
        if ((long) ctx * config.kvDim() > Integer.MAX_VALUE - 8) {
            throw new VellamaException("a context of " + ctx + " positions is too large for this model's KV cache");
        }
    }

    /** The CUDA pass; its classes load only here, so the CPU path never touches the driver bindings. */
    private static TransformerPass openCuda(Model model, int ctx, int batch, int threads, int gpuLayers,
                                            CacheType keys, CacheType values) {
        try {
            return dev.vellama.runtime.cuda.CudaForwardPass.create(model.config(), model.weights(), ctx, batch,
                    gpuLayers, threads, keys.ggmlType(), values.ggmlType(), System.err::println);
        } catch (dev.vellama.runtime.cuda.CudaUnavailableException e) {
            throw new VellamaException("--device cuda: " + e.getMessage());
        } catch (IllegalArgumentException e) { // a cache type the GPU does not keep, too little device memory
            throw new VellamaException(e.getMessage());
        }
    }

    /** {@return the model this session runs} */
    public Model model() {
        return model;
    }

    /**
     * The positions the KV cache holds: the options' context size, else the training context up to
     * {@link SessionOptions#DEFAULT_CONTEXT}.
     *
     * @return the context size in tokens
     */
    public int contextSize() {
        return contextSize;
    }

    /** {@return the most prompt tokens one forward pass evaluates, at most the context size} */
    public int batchSize() {
        return batchSize;
    }

    /**
     * What the compute kernels are (vector width, threads).
     *
     * @return a one-line description for logs
     */
    public String kernelDescription() {
        return pass.description();
    }

    /**
     * Tokenizes a prompt as llama.cpp's completion does: BOS as the model says, special tokens parsed.
     *
     * @param prompt the prompt text
     * @return its token ids, a new array
     */
    public int[] tokenize(String prompt) {
        return model.completionPrompt(prompt);
    }

    /**
     * Generates a completion of {@code prompt}, tokenized as {@link #tokenize} does, and returns when it ends.
     *
     * @param prompt  the prompt text
     * @param params  how to sample and when to stop
     * @param onToken called with each token as it is released, on this thread; null for none
     * @return the tokens, the text, the stop reason and the timings
     */
    public GenerationResult generate(String prompt, GenerationParams params, Consumer<GeneratedToken> onToken) {
        return generate(tokenize(prompt), params, onToken);
    }

    /**
     * Generates a completion of a tokenized prompt, reusing the cached prefix it shares with what the session
     * holds, and returns when it ends.
     *
     * @param promptTokens prompt token ids, BOS included when the model wants one
     * @param params       how to sample and when to stop
     * @param onToken      called with each token as it is released, on this thread; null for none
     * @return the tokens, the text, the stop reason and the timings
     */
    public GenerationResult generate(int[] promptTokens, GenerationParams params, Consumer<GeneratedToken> onToken) {
        return drain(stream(promptTokens, params), onToken);
    }

    /**
     * Streams a generation token by token; {@link Generation#result()} gives the summary at the end.
     *
     * @param prompt the prompt text, tokenized as {@link #tokenize} does
     * @param params how to sample and when to stop
     * @return the generation, which evaluates the prompt on its first {@link Generation#hasNext()}
     */
    public Generation stream(String prompt, GenerationParams params) {
        return stream(tokenize(prompt), params);
    }

    /**
     * As {@link #stream(String, GenerationParams)} from tokens.
     *
     * @param promptTokens prompt token ids, BOS included when the model wants one; copied
     * @param params       how to sample and when to stop
     * @return the generation, which evaluates the prompt on its first {@link Generation#hasNext()}
     */
    public Generation stream(int[] promptTokens, GenerationParams params) {
        return new Generation(this, promptTokens, params, params.contextShift().resolve(false) == ContextShift.Mode.SHIFT,
                keepFor(params.contextShift(), promptTokens, 0));
    }

    /**
     * Renders the conversation with the model's chat template and answers the last message. A full context is
     * shifted by default (see {@link ContextShift}), keeping the system message.
     *
     * @param messages the conversation so far, oldest first; the reply answers the last one
     * @param params   how to sample and when to stop
     * @param onToken  called with each token as it is released, on this thread; null for none
     * @return the reply's tokens and text, the stop reason and the timings
     */
    public GenerationResult chat(List<ChatMessage> messages, GenerationParams params, Consumer<GeneratedToken> onToken) {
        return chat(messages, model.chatTemplate(), params, onToken);
    }

    /**
     * As {@link #chat(List, GenerationParams, Consumer)} rendered with {@code template}.
     *
     * @param messages the conversation so far, oldest first; the reply answers the last one
     * @param template the chat template to render it with, in place of the model's own
     * @param params   how to sample and when to stop
     * @param onToken  called with each token as it is released, on this thread; null for none
     * @return the reply's tokens and text, the stop reason and the timings
     */
    public GenerationResult chat(List<ChatMessage> messages, ChatTemplate template, GenerationParams params,
            Consumer<GeneratedToken> onToken) {
        return drain(streamChat(messages, template, params), onToken);
    }

    /**
     * Streams the answer to the last message of a conversation rendered with {@code template}.
     *
     * @param messages the conversation so far, oldest first
     * @param template the chat template to render it with
     * @param params   how to sample and when to stop; its context shift resolves as in a chat
     * @return the generation, which evaluates the prompt on its first {@link Generation#hasNext()}
     * @throws ContextOverflowException with {@link ContextShift#DROP_OLDEST_TURNS}, when the last message alone
     *                                  does not fit
     */
    public Generation streamChat(List<ChatMessage> messages, ChatTemplate template, GenerationParams params) {
        ContextShift.Mode mode = params.contextShift().resolve(true);
        int[] tokens = mode == ContextShift.Mode.DROP_OLDEST_TURNS ? fitConversation(messages, template).tokens()
                : model.chatPrompt(messages, template);
        return new Generation(this, tokens, params, mode == ContextShift.Mode.SHIFT,
                keepFor(params.contextShift(), tokens, systemPrefix(messages, template, tokens)));
    }

    private static GenerationResult drain(Generation g, Consumer<GeneratedToken> onToken) {
        while (g.hasNext()) {
            GeneratedToken t = g.next();
            if (onToken != null) {
                onToken.accept(t);
            }
        }
        return g.result();
    }

    /**
     * The tokens of a conversation rendered with the model's template, with a generation prompt.
     *
     * @param messages the conversation so far, oldest first
     * @return the prompt's token ids, as {@link Model#chatPrompt(java.util.List)} makes them
     */
    public int[] chatTokens(List<ChatMessage> messages) {
        return model.chatPrompt(messages);
    }

    /**
     * A conversation cut to fit: its tokens, and how many of its oldest messages were left out.
     *
     * @param tokens          the rendered prompt's token ids, with a generation prompt
     * @param droppedMessages how many of the oldest user and assistant messages were left out (0: none)
     */
    public record FittedConversation(int[] tokens, int droppedMessages) {
    }

    /**
     * The conversation rendered without as many of its oldest user and assistant messages as it takes to leave room
     * for a reply (a quarter of the context, at most 256 tokens); system messages stay. The policy
     * {@link ContextShift#DROP_OLDEST_TURNS} sends this.
     *
     * @param messages the conversation, oldest first; the list is not changed
     * @param template the chat template to render it with
     * @return the tokens of what fits and how many messages were left out
     * @throws ContextOverflowException when the last message alone does not fit
     */
    public FittedConversation fitConversation(List<ChatMessage> messages, ChatTemplate template) {
        int room = Math.max(1, Math.min(256, contextSize / 4));
        List<ChatMessage> kept = new java.util.ArrayList<>(messages);
        int dropped = 0;
        while (true) {
            int[] tokens = model.chatPrompt(kept, template);
            int turns = (int) kept.stream().filter(m -> !m.role().equals("system")).count();
            if (tokens.length + room <= contextSize || (turns <= 1 && tokens.length < contextSize)) {
                return new FittedConversation(tokens, dropped);
            }
            if (turns <= 1) {
                throw new ContextOverflowException("the last message takes " + tokens.length + " tokens but the context holds "
                        + contextSize + "; use a larger context (--ctx) or a shorter message");
            }
            // the oldest non-system message goes, and the reply to it with it (a user message and its answer go together)
            int first = 0;
            while (kept.get(first).role().equals("system")) {
                first++;
            }
            kept.remove(first);
            dropped++;
            if (turns > 2 && first < kept.size() && !kept.get(first).role().equals("user")) {
                kept.remove(first);
                dropped++;
            }
        }
    }

    /** Tokens a shift keeps: as asked, else the rendered system message (when there is one) or the BOS token. */
    private int keepFor(ContextShift shift, int[] tokens, int systemPrefix) {
        if (shift.keep() != ContextShift.KEEP_DEFAULT) {
            return shift.keep();
        }
        int bos = model.tokenizer().bos();
        int keep = tokens.length > 0 && bos >= 0 && tokens[0] == bos ? 1 : 0;
        return Math.max(keep, systemPrefix);
    }

    /** How many leading tokens of the rendered conversation are its system message (0 without one). */
    private int systemPrefix(List<ChatMessage> messages, ChatTemplate template, int[] tokens) {
        if (messages.isEmpty() || !messages.get(0).role().equals("system")) {
            return 0;
        }
        try {
            int[] alone = model.chatPrompt(List.of(messages.get(0)), template, false);
            int n = 0;
            while (n < alone.length && n < tokens.length && alone[n] == tokens[n]) {
                n++;
            }
            // a context shift must leave room to go on: a system message of most of the context is not all kept
            return Math.min(n, contextSize / 2);
        } catch (dev.vellama.runtime.chat.ChatTemplateException e) {
            return 0; // a template that will not render a system message alone: keep the BOS only
        }
    }

    /**
     * Evaluates {@code tokens} from position 0 and returns the logits of every position, row-major
     * [position][vocab]. Used for scoring and perplexity; clears what the cache held.
     *
     * @param tokens token ids to evaluate, at least one and at most the context size
     * @return a new array of {@code tokens.length × vocabulary size} logits; the cache then holds exactly
     *         {@code tokens}
     * @throws ContextOverflowException if {@code tokens} is empty or longer than the context
     */
    public float[] evaluateAll(int[] tokens) {
        return evaluateFromStart(tokens, config.vocabSize(), pass::forwardAll);
    }

    /** One chunk through the pass: tokens[from .. from+n) at positions from.., a row of {@code width} per token. */
    private interface ChunkEvaluation {
        float[] run(int[] tokens, int from, int n, int pos);
    }

    /**
     * Evaluates {@code tokens} from position 0 in chunks of the batch size and gathers each chunk's rows; the cache
     * then holds exactly these tokens. Null from a chunk means the pass cannot compute these rows.
     */
    private float[] evaluateFromStart(int[] tokens, int width, ChunkEvaluation chunk) {
        if (tokens.length == 0 || tokens.length > contextSize) {
            throw new ContextOverflowException(tokens.length + " tokens do not fit a context of " + contextSize);
        }
        float[] all = new float[tokens.length * width];
        for (int from = 0; from < tokens.length; from += batchSize) {
            int n = Math.min(batchSize, tokens.length - from);
            float[] rows = chunk.run(tokens, from, n, from);
            if (rows == null) {
                throw new VellamaException("this pass cannot compute hidden states; open the session with the CPU device");
            }
            System.arraycopy(rows, 0, all, from * width, n * width);
        }
        System.arraycopy(tokens, 0, cached, 0, tokens.length);
        cachedLength = tokens.length;
        historyLength = 0;
        forgotten = 0;
        appendHistory(tokens, 0, tokens.length);
        return all;
    }

    /**
     * Evaluates {@code tokens} from position 0 and returns each one's hidden state after the final norm, row-major
     * [token][embedding]: what embeddings pool. Clears what the cache held.
     *
     * @param tokens token ids to evaluate, at least one and at most the context size
     * @return a new array of {@code tokens.length × embedding length} values
     * @throws ContextOverflowException if {@code tokens} is empty or longer than the context
     */
    public float[] hiddenStates(int[] tokens) {
        return evaluateFromStart(tokens, config.embeddingLength(), pass::forwardHidden);
    }

    /**
     * Calls {@code hook} with every token's activations at {@code point} of every layer, from the next evaluation
     * on; closing the returned handle removes it. A hook may edit the values in place (see {@link ActivationHook}).
     * Setting or removing a hook forgets the cached conversation, whose cells were computed without it. On a CUDA
     * session the hooked rows are copied from the device to the hook and back at each point where a hook is set, and
     * decode steps are not replayed as CUDA graphs while any is: slower, the same values.
     *
     * @param point where
     * @param hook  what to call
     * @return the handle that removes it
     */
    public Hook observe(ActivationPoint point, ActivationHook hook) {
        return addHook(point, -1, false, hook);
    }

    /**
     * As {@link #observe(ActivationPoint, ActivationHook)}, at one layer.
     *
     * @param point where
     * @param layer the layer, from 0
     * @param hook  what to call
     * @return the handle that removes it
     */
    public Hook observe(ActivationPoint point, int layer, ActivationHook hook) {
        checkLayer(layer);
        return addHook(point, layer, false, hook);
    }

    /**
     * Fixes neuron {@code neuron} of layer {@code layer}'s gated MLP activations ({@link ActivationPoint#FFN_ACT}) to
     * {@code value} for every token from the next evaluation on, until the handle is closed.
     *
     * @param layer  the layer, from 0
     * @param neuron the neuron, below the layer's feed-forward width
     * @param value  its value
     * @return the handle that removes the clamp
     */
    public Hook clamp(int layer, int neuron, float value) {
        checkLayer(layer);
        int width = config.feedForwardLength()[layer];
        if (neuron < 0 || neuron >= width) {
            throw new VellamaException("neuron " + neuron + " of layer " + layer + ", whose feed-forward block has " + width);
        }
        return addHook(ActivationPoint.FFN_ACT, layer, false, (l, p, pos, v, off, len) -> v[off + neuron] = value);
    }

    /**
     * Adds control vector {@code vector}'s direction for each layer in {@code [fromLayer, toLayer]} to that layer's
     * output, every token, as llama.cpp's {@code --control-vector} with {@code --control-vector-layer-range} does
     * (its defaults are 1 and the layer count); the {@link ActivationPoint#RESIDUAL} hooks see it added.
     *
     * @param vector    the control vector
     * @param fromLayer the first layer it applies to
     * @param toLayer   the last
     * @return the handle that removes it
     * @throws VellamaException when the vector's width is not the model's embedding width
     */
    public Hook steer(ControlVector vector, int fromLayer, int toLayer) {
        if (vector.embeddingLength() != config.embeddingLength()) {
            throw new VellamaException("the control vector has directions of " + vector.embeddingLength()
                    + " values; this model's embeddings have " + config.embeddingLength());
        }
        List<Hook> parts = new java.util.ArrayList<>();
        for (int l = Math.max(1, fromLayer); l <= Math.min(toLayer, config.layerCount() - 1); l++) {
            float[] dir = vector.directionView(l);
            if (dir != null) {
                parts.add(addHook(ActivationPoint.RESIDUAL, l, true, (layer, p, pos, v, off, len) -> {
                    for (int i = 0; i < len; i++) {
                        v[off + i] += dir[i];
                    }
                }));
            }
        }
        return () -> parts.forEach(Hook::close);
    }

    /** Removes every hook, clamp and control vector (and forgets the cached conversation if there were any). */
    public void clearHooks() {
        if (!hooks.isEmpty()) {
            hooks.clear();
            hooksChanged();
        }
    }

    /** A hook, clamp or control vector set on a session; closing it removes it. */
    @FunctionalInterface
    public interface Hook extends AutoCloseable {
        @Override
        void close();
    }

    private Hook addHook(ActivationPoint point, int layer, boolean first, ActivationHook hook) {
        Runnable remove = hooks.add(point, layer, first, hook);
        hooksChanged();
        return () -> {
            remove.run();
            hooksChanged();
        };
    }

    private void hooksChanged() {
        pass.hooks(hooks);
        reset();
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer >= config.layerCount()) {
            throw new VellamaException("layer " + layer + " of a model with " + config.layerCount() + " layers (0 to "
                    + (config.layerCount() - 1) + ")");
        }
    }

    /** Forgets the cached conversation. */
    public void reset() {
        cachedLength = 0;
        historyLength = 0;
        forgotten = 0;
    }

    /** Asks the running generation to stop after the current token (stop reason CANCELLED). */
    public void cancel() {
        cancelRequested = true;
    }

    /**
     * Applies LoRA adapters from the next evaluation on, each at its scale (an empty list: none), as llama.cpp's
     * {@code llama_set_adapter_lora}. The session forgets what it holds: those cells were computed with other weights.
     *
     * @param adapters the adapters and their scales, loaded for this session's model
     * @throws VellamaException if the session runs on a GPU (adapters run on the CPU only for now)
     */
    public void useAdapters(java.util.List<LoraAdapter.Applied> adapters) {
        if (!(pass instanceof ForwardPass cpu)) {
            throw new VellamaException("LoRA adapters run on the CPU only for now; this session runs on " + pass.description());
        }
        cpu.adapters(LoraAdapter.products(adapters, model.kernels(1)));
        reset();
    }

    /**
     * Speculative decoding, as llama.cpp's {@code --model-draft}: from the next generation on, {@code draft} (a
     * session of a smaller model with the same vocabulary) proposes up to {@code maxDraft} tokens greedily after each
     * sampled token (those it gives a probability of at least {@value #DEFAULT_DRAFT_MIN_PROBABILITY}, see
     * {@link #useDraft(Session, int, float)}), and this session evaluates them in one pass and samples each position from its own logits as it
     * would without a draft, keeping the proposals up to the first one its sampling does not pick. The tokens are
     * those plain decoding gives (on the CPU each row's products are its own one-token step's, bit for bit); only the
     * time changes, for the better when the draft is often right and cheap next to this model. Null turns it off.
     * Drafting pauses while the context is too full for a round, after a context shift, while activation hooks are
     * set, and for models whose state cannot step back (recurrent layers). The draft session is used from the thread
     * that generates.
     *
     * @param draft    a session of the draft model (its own context, at least this one's), or null
     * @param maxDraft the most tokens proposed per round, at least 1
     * @throws VellamaException if the draft's vocabulary is not this model's, or {@code draft} is this session
     */
    public void useDraft(Session draft, int maxDraft) {
        useDraft(draft, maxDraft, DEFAULT_DRAFT_MIN_PROBABILITY);
    }

    /** llama.cpp's default {@code --draft-p-min}. */
    public static final float DEFAULT_DRAFT_MIN_PROBABILITY = 0.75f;

    /**
     * {@link #useDraft(Session, int)}, proposing only tokens the draft is sure of: each proposal is the draft's
     * likeliest token, and drafting stops before one whose probability (softmax of the draft's logits) is under
     * {@code minProbability}, as llama.cpp's {@code --draft-p-min} stops after it. A draft unsure of its first
     * token proposes nothing, and that step is a plain one: an unsure draft costs its own step, not a check.
     *
     * @param draft          a session of the draft model, or null
     * @param maxDraft       the most tokens proposed per round, at least 1
     * @param minProbability the least probability a proposal needs, in [0, 1]
     * @throws VellamaException if the draft's vocabulary is not this model's, {@code draft} is this session, or an
     *                          argument is out of range
     */
    public void useDraft(Session draft, int maxDraft, float minProbability) {
        if (!(minProbability >= 0 && minProbability <= 1)) {
            throw new VellamaException("a draft's least probability must be in [0, 1], not " + minProbability);
        }
        this.draftMinProbability = minProbability;
        if (draft == null) {
            this.draft = null;
            return;
        }
        if (draft == this) {
            throw new VellamaException("a session cannot be its own draft");
        }
        if (maxDraft < 1) {
            throw new VellamaException("a draft of " + maxDraft + " tokens: at least 1");
        }
        dev.vellama.runtime.tokenizer.Tokenizer mine = model.tokenizer();
        dev.vellama.runtime.tokenizer.Tokenizer theirs = draft.model().tokenizer();
        int n = Math.min(mine.vocabSize(), theirs.vocabSize());
        // llama.cpp's check: sizes within 128 of each other, the same text for every token both have
        if (Math.abs(mine.vocabSize() - theirs.vocabSize()) > 128 || mine.bos() != theirs.bos() || mine.eos() != theirs.eos()) {
            throw new VellamaException("the draft model's vocabulary is not this model's (" + theirs.vocabSize() + " tokens against "
                    + mine.vocabSize() + ")");
        }
        for (int id = 0; id < n; id++) {
            if (!java.util.Arrays.equals(mine.tokenBytes(id), theirs.tokenBytes(id))) {
                throw new VellamaException("the draft model's vocabulary is not this model's (token " + id + " differs)");
            }
        }
        this.draft = draft;
        this.draftMax = maxDraft;
    }

    /**
     * What drafting has done since the session was made.
     *
     * @param drafted  tokens the draft proposed
     * @param accepted proposals the model's sampling picked, and so kept
     */
    public record DraftStats(long drafted, long accepted) {
        /** {@return the share of proposals kept, 0 when none were made} */
        public double acceptance() {
            return drafted == 0 ? 0 : (double) accepted / drafted;
        }
    }

    /** {@return the draft's proposals and acceptances so far (zeros without a draft)} */
    public DraftStats draftStats() {
        return new DraftStats(drafted, draftsAccepted);
    }

    /** {@return the number of tokens currently held in the KV cache} */
    public int position() {
        return cachedLength;
    }

    /**
     * Saves what the session holds (its token history and KV cache cells) to {@code file}, replacing it whole (a
     * crash never leaves half a file there). {@link #load} in a session of the same model file continues from it
     * exactly, so a long prompt read once need not be read again (llama.cpp's {@code --prompt-cache}).
     *
     * @param file where to write the session; an existing file is replaced
     * @throws SessionFileException when the file cannot be written, or the session is empty
     */
    public void save(java.nio.file.Path file) {
        if (historyLength == 0) {
            throw new SessionFileException("the session is empty: there is nothing to save");
        }
        KvCache cache = pass.hostCache();
        if (cache == null) { // on a GPU: copied into the heap cache a CPU session would keep
            cache = deviceCacheCopy();
            pass.copyCacheTo(cache, cachedLength);
        }
        SessionFile.write(file, model, cache, new SessionFile.State(java.util.Arrays.copyOf(history, historyLength),
                keptPrefix, forgotten));
    }

    /**
     * Replaces what the session holds with a session saved by {@link #save}; the next prompt that extends the saved
     * tokens evaluates only what is new.
     *
     * @param file a session saved by {@link #save} from a session of the same model file
     * @throws SessionFileException when the file is missing, cut short, damaged, saved with another model or another
     *                              cache type, or holds more tokens than this session's context; the session is then
     *                              empty
     */
    public void load(java.nio.file.Path file) {
        KvCache host = pass.hostCache();
        KvCache cache = host != null ? host : deviceCacheCopy();
        reset();
        SessionFile.State state = SessionFile.read(file, model, cache);
        if (host == null) {
            pass.copyCacheFrom(cache, state.cachedLength());
        }
        historyLength = 0;
        appendHistory(state.history(), 0, state.history().length);
        keptPrefix = state.keptPrefix();
        forgotten = state.forgotten();
        int[] cells = state.cells();
        System.arraycopy(cells, 0, cached, 0, cells.length);
        cachedLength = cells.length;
    }

    /**
     * A heap cache of every layer in the types the GPU keeps: what a GPU session saves from and loads into, so its
     * files open in a CPU session with the same cache types and the other way round.
     */
    private KvCache deviceCacheCopy() {
        return KvCache.of(model.config(), 0, contextSize, cacheTypeK.ggmlType(), cacheTypeV.ggmlType(), batchSize);
    }

    /** {@return the number of tokens forgotten by context shifts since the last reset} */
    public int forgottenTokens() {
        return forgotten;
    }

    /**
     * A context shift by hand: forgets the oldest half of the cached tokens after the first {@code keep} (after the
     * kept prefix of an earlier shift, if there was one) and returns how many were forgotten, 0 when nothing can be.
     *
     * @param keep tokens at the start of the cache that stay, 0 or more
     * @return how many tokens were forgotten; 0 when nothing can be
     * @throws IllegalArgumentException if {@code keep} is negative
     */
    public int shiftContext(int keep) {
        if (keep < 0) {
            throw new IllegalArgumentException("keep must be 0 or more");
        }
        int before = forgotten;
        makeRoom(keep);
        return forgotten - before;
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
     * Brings the cache to hold {@code tokens} and returns the logits after the last one: reuses what the cache holds
     * of a prefix of them and evaluates the rest in chunks of the batch size (at least the last token is evaluated).
     * With {@code shift}, a context that fills on the way forgets its oldest tokens after the first {@code keep}
     * (see {@link ContextShift}). Returns null when {@link #cancel()} comes first (checked between layers): the
     * cache then keeps the chunks already done.
     */
    float[] prefill(int[] tokens, boolean shift, int keep) {
        if (tokens.length == 0) {
            throw new VellamaException("the prompt is empty: it has no tokens");
        }
        if (!shift && tokens.length > contextSize) {
            throw overflow(tokens.length);
        }
        int m = 0;
        while (m < historyLength && m < tokens.length && history[m] == tokens[m]) {
            m++;
        }
        m = Math.min(m, tokens.length - 1);
        if (forgotten > 0 && (m < keptPrefix + forgotten || !shift && m - forgotten + tokens.length - m > contextSize)) {
            // the prompt parts from the history before the cells the cache still holds (or, without shifting, does not
            // fit after them): only the kept prefix is of use, and the rest is evaluated again at its own positions
            m = Math.min(m, keptPrefix);
            forgotten = 0;
        }
        if (!pass.canContinueAt(m - forgotten)) {
            // the sliding-window layers' ring no longer holds the window before the point where the prompt parts
            // from the history: everything is evaluated again
            m = 0;
            forgotten = 0;
        }
        historyLength = m;
        cachedLength = m - forgotten;
        lastPrefillEvaluated = 0;
        float[] logits = null;
        for (int from = m; from < tokens.length; ) {
            if (cachedLength == contextSize && !makeRoom(keep)) {
                throw overflow(tokens.length);
            }
            int n = Math.min(Math.min(batchSize, tokens.length - from), contextSize - cachedLength);
            if (cancelRequested) {
                return null;
            }
            try {
                logits = pass.forwardLast(tokens, from, n, cachedLength);
            } catch (java.util.concurrent.CancellationException e) {
                return null; // the cache holds the chunks before this one
            }
            System.arraycopy(tokens, from, cached, cachedLength, n);
            appendHistory(tokens, from, n);
            cachedLength += n;
            lastPrefillEvaluated += n;
            from += n;
        }
        return logits;
    }

    private ContextOverflowException overflow(int promptLength) {
        return new ContextOverflowException("the prompt has " + promptLength + " tokens but the context holds "
                + contextSize + "; use a larger context (--ctx), a shorter prompt, or a context shift");
    }

    /**
     * Appends one token to the cache and returns the logits after it; null when {@link #cancel()} stopped the pass
     * (the token is then not in the cache). The caller makes room first when the cache is full.
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
        appendHistory(cached, cachedLength, 1);
        cachedLength++;
        return logits;
    }

    /**
     * The draft's proposals to follow what the cache holds and then {@code last}: at most the draft's maximum and
     * {@code most}, as many as leave this context room for {@code last} and them, and with {@code last} at most a
     * batch (the pass that checks them takes one). Empty when no draft is set or drafting must pause: a context
     * shift has run, the cache cannot step back, activation hooks are set (they would see proposals that are not
     * kept), or either context lacks room.
     */
    int[] propose(int last, int most) {
        // the round's pass takes the last token and the proposals at once: at most a batch
        int k = draft == null ? 0 : Math.min(Math.min(draftMax, most), Math.min(contextSize - cachedLength, batchSize) - 1);
        if (k < 1 || forgotten > 0 || cachedLength == 0 || !hooks.isEmpty() || !pass.canContinueAt(cachedLength - 1)
                || historyLength + 1 + k > draft.contextSize()) {
            return new int[0];
        }
        int[] seen = java.util.Arrays.copyOf(history, historyLength + 1);
        seen[historyLength] = last;
        float[] logits = draft.catchUp(seen, draftMax + 1);
        int vocab = Math.min(config.vocabSize(), draft.config.vocabSize());
        dev.vellama.runtime.tokenizer.Tokenizer tokenizer = model.tokenizer();
        int[] out = new int[k];
        int n = 0;
        while (logits != null) {
            int id = Sampler.argmax(logits, vocab);
            if (draftMinProbability > 0 && probability(logits, vocab, id) < draftMinProbability) {
                break;
            }
            out[n++] = id;
            if (n == k || tokenizer.isEndOfGeneration(id)) {
                break;
            }
            logits = draft.step(id);
        }
        drafted += n;
        return java.util.Arrays.copyOf(out, n);
    }

    /**
     * Brings the cache to hold {@code tokens} (no context shift) and returns the logits after the last: when at most
     * {@code fewest} tokens follow what it already holds of them, one-token steps (the logits plain decoding gives),
     * else {@link #prefill}. Null when cancelled.
     */
    private float[] catchUp(int[] tokens, int fewest) {
        int m = 0;
        while (m < historyLength && m < tokens.length - 1 && history[m] == tokens[m]) {
            m++;
        }
        if (forgotten > 0 || m == 0 || tokens.length - m > fewest || !pass.canContinueAt(m)) {
            return prefill(tokens, false, 0);
        }
        keepCells(m);
        float[] logits = null;
        for (int i = m; i < tokens.length; i++) {
            logits = step(tokens[i]);
            if (logits == null) {
                return null;
            }
        }
        return logits;
    }

    /** The softmax probability of token {@code id} under {@code logits}[0, vocab). */
    private float probability(float[] logits, int vocab, int id) {
        if (draftProbabilities == null || draftProbabilities.length < vocab) {
            draftProbabilities = new float[vocab];
        }
        System.arraycopy(logits, 0, draftProbabilities, 0, vocab);
        kernels.softmax(draftProbabilities, 0, vocab);
        return draftProbabilities[id];
    }

    /** Counts a proposal this session's sampling picked. */
    void draftAccepted() {
        draftsAccepted++;
    }

    /**
     * Appends {@code tokens} to the cache in one pass and returns the logits after each (row-major), each row what a
     * one-token step would give where the pass can; null when {@link #cancel()} stopped the pass (none of them is
     * then in the cache). The caller leaves room for them.
     */
    float[] stepRows(int[] tokens) {
        System.arraycopy(tokens, 0, cached, cachedLength, tokens.length);
        float[] rows;
        try {
            rows = pass.forwardRows(cached, cachedLength, tokens.length, cachedLength);
        } catch (java.util.concurrent.CancellationException e) {
            return null;
        }
        appendHistory(tokens, 0, tokens.length);
        cachedLength += tokens.length;
        return rows;
    }

    /**
     * Forgets the cells after the first {@code cells} (proposals not kept); called with no context shift since the
     * round began. A round writes at most a batch of cells, which a sliding window's ring keeps beside the window,
     * so it can go on from there; should it not, {@link #prefill} evaluates again what the ring no longer holds.
     */
    void keepCells(int cells) {
        if (cells >= cachedLength) {
            return;
        }
        cachedLength = cells;
        historyLength = cells + forgotten;
        if (!pass.canContinueAt(cells)) {
            prefill(java.util.Arrays.copyOf(cached, cells), false, 0);
        }
    }

    /**
     * A context shift: forgets the oldest half of the cells after the kept prefix ({@code keep} tokens, or the
     * prefix an earlier shift kept), moving the rest down with their keys turned to their new positions; a pass that
     * cannot turn keys evaluates the moved tokens again. False when there is nothing to forget.
     */
    boolean makeRoom(int keep) {
        int kept = forgotten > 0 ? keptPrefix : Math.min(keep, cachedLength);
        int discard = Math.min((cachedLength - kept) / 2, pass.maxDiscard(kept, cachedLength));
        if (discard < 1) {
            return false;
        }
        boolean turned = pass.shiftCache(kept, discard, cachedLength);
        System.arraycopy(cached, kept + discard, cached, kept, cachedLength - kept - discard);
        cachedLength -= discard;
        if (!turned) {
            for (int p = kept; p < cachedLength; p += batchSize) {
                pass.forwardLast(cached, p, Math.min(batchSize, cachedLength - p), p);
            }
        }
        keptPrefix = kept;
        forgotten += discard;
        forgottenSinceMark += discard;
        return true;
    }

    /** Tokens forgotten since the last call (a generation reports those of its own run). */
    int takeForgotten() {
        int n = forgottenSinceMark;
        forgottenSinceMark = 0;
        return n;
    }

    private void appendHistory(int[] tokens, int from, int n) {
        if (historyLength + n > history.length) {
            history = java.util.Arrays.copyOf(history, Math.max(historyLength + n, 2 * history.length));
        }
        System.arraycopy(tokens, from, history, historyLength, n);
        historyLength += n;
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
