package dev.vellama.runtime;

import dev.vellama.VellamaException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.vellama.quant.Kernels;
import dev.vellama.runtime.model.BatchedPass;
import dev.vellama.runtime.model.CpuBatchedPass;
import dev.vellama.runtime.model.KvCache;

/**
 * Many generations at once over one model, by continuous batching (llama.cpp's server slots): a fixed set of
 * slots, each with a KV cache of its own, and one engine thread that at every step runs the next token of every
 * generating slot and the pending prompt chunks of newly admitted requests through the weights together, one read
 * of each weight matrix per step for all of them. Each sampled token goes to its request's listener before the next
 * step runs. A slot keeps its tokens after a request ends, and a new request that starts with the same tokens (a
 * system prompt, a chat's earlier turns) goes to the slot that holds the longest such prefix and evaluates only the
 * rest, as llama-server's {@code cache_prompt}.
 *
 * <p>Threads: {@link #submit} and {@link Request#cancel()} may be called from any thread; listeners are called
 * on the engine thread and must return quickly (hand the token to another thread, never block on a client).
 */
public final class BatchEngine implements AutoCloseable {

    /** What a request's owner hears, on the engine thread. */
    public interface Listener {
        /**
         * A token was sampled (its text may be empty while a character or a possible stop string is pending).
         *
         * @param token the token's id, the text it releases and, when asked for, its logprobs (id -1 for a last
         *              entry that only carries held-back text)
         */
        void onToken(GeneratedToken token);

        /**
         * The generation ended; {@code result} has every token, the text and the timings.
         *
         * @param result the finished generation, with its stop reason ({@code CANCELLED} for a cancelled request)
         */
        void onEnd(GenerationResult result);

        /**
         * The generation failed in the engine (not for bad input: {@link #submit} refuses that).
         *
         * @param error what went wrong; the request is over and no {@link #onEnd} follows
         */
        void onError(RuntimeException error);
    }

    /**
     * How the engine runs.
     *
     * @param slots       generations that run at once
     * @param contextSize positions all slots hold together (each slot gets contextSize / slots, as llama-server)
     * @param batchSize   prompt tokens one step evaluates at most, besides one decode token per generating slot;
     *                    a prompt is cut into chunks of this size as a session with this batch size cuts it
     * @param threads     compute threads (0: all processors)
     * @param queueLimit  requests that may wait for a slot before {@link #submit} refuses more
     * @param kvCache     how the caches store keys and values (CUDA keeps F16, Q8_0 or Q4_0)
     * @param device      where the batched step runs
     * @param gpuLayers   with {@link SessionOptions.Device#CUDA}: layers on the GPU, the first ones
     *                    ({@link SessionOptions#ALL_LAYERS}: all, with the output)
     * @param contextShift what a request whose {@link GenerationParams#contextShift()} is {@code AUTO} does when its
     *                    slot fills: shift (llama-server's {@code --context-shift}) or stop (its default)
     */
    public record Options(int slots, int contextSize, int batchSize, int threads, int queueLimit,
                          CacheType kvCache, SessionOptions.Device device, int gpuLayers, boolean contextShift) {
        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException if there is no slot, less than one position per slot, no batch row, a
         *                                  negative thread count or queue limit, or a CUDA engine with a cache type
         *                                  other than F16, Q8_0 or Q4_0
         * @throws NullPointerException     if {@code kvCache} or {@code device} is null
         */
        public Options {
            if (slots < 1 || contextSize < slots || batchSize < 1 || threads < 0 || queueLimit < 0) {
                throw new IllegalArgumentException("an engine needs at least one slot, a context of at least one position per slot,"
                        + " a batch of at least one row and no negative thread count or queue limit");
            }
            java.util.Objects.requireNonNull(kvCache);
            java.util.Objects.requireNonNull(device);
            if (device == SessionOptions.Device.CUDA && !kvCache.onCuda()) {
                throw new IllegalArgumentException("the CUDA pass keeps its KV cache in f16, q8_0 or q4_0; "
                        + kvCache.llamaName() + " is for the CPU");
            }
        }

        /**
         * On the CPU, with an F16 cache, llama-server's batch size, all processors and a queue of 64.
         *
         * @param slots       generations that run at once, at least 1
         * @param contextSize positions of all slots together, at least one per slot
         * @return the options
         */
        public static Options of(int slots, int contextSize) {
            return new Options(slots, contextSize, SessionOptions.DEFAULT_BATCH, 0, 64, CacheType.F16,
                    SessionOptions.Device.CPU, SessionOptions.ALL_LAYERS, false);
        }

        /**
         * A copy with another {@link #threads()}.
         *
         * @param n compute threads; 0 for all processors
         * @return the new options
         */
        public Options withThreads(int n) {
            return new Options(slots, contextSize, batchSize, n, queueLimit, kvCache, device, gpuLayers, contextShift);
        }

        /**
         * A copy with another {@link #batchSize()}.
         *
         * @param n prompt tokens one step evaluates at most, at least 1
         * @return the new options
         */
        public Options withBatchSize(int n) {
            return new Options(slots, contextSize, n, threads, queueLimit, kvCache, device, gpuLayers, contextShift);
        }

        /**
         * A copy with another {@link #queueLimit()}.
         *
         * @param n requests that may wait for a slot, 0 or more
         * @return the new options
         */
        public Options withQueueLimit(int n) {
            return new Options(slots, contextSize, batchSize, threads, n, kvCache, device, gpuLayers, contextShift);
        }

        /**
         * A copy with another {@link #kvCache()}.
         *
         * @param precision how the caches store keys and values; F16 for CUDA
         * @return the new options
         */
        public Options withKvCache(CacheType precision) {
            return new Options(slots, contextSize, batchSize, threads, queueLimit, precision, device, gpuLayers, contextShift);
        }

        /**
         * Shifts a full slot's context for requests that leave it to the engine.
         *
         * @param shift true to shift a full slot's context for requests with {@link ContextShift#AUTO}, false to
         *              stop them
         * @return the new options
         */
        public Options withContextShift(boolean shift) {
            return new Options(slots, contextSize, batchSize, threads, queueLimit, kvCache, device, gpuLayers, shift);
        }

        /**
         * Runs on {@code d}, with {@code layers} layers offloaded when that is CUDA.
         *
         * @param d      where the batched step runs
         * @param layers layers on the GPU, the first ones ({@link SessionOptions#ALL_LAYERS}: all, with the
         *               output); ignored on the CPU
         * @return the new options
         */
        public Options withDevice(SessionOptions.Device d, int layers) {
            return new Options(slots, contextSize, batchSize, threads, queueLimit, kvCache, d, layers, contextShift);
        }
    }

    /**
     * Counters since the engine started and its state now, for metrics.
     *
     * @param requests        requests admitted to a slot so far
     * @param promptTokens    prompt tokens evaluated by requests that ended (cached prefixes not counted)
     * @param generatedTokens tokens generated by requests that ended
     * @param promptNanos     prompt processing time of requests that ended, summed, in nanoseconds
     * @param generationNanos generation time of requests that ended, summed, in nanoseconds
     * @param busySlots       slots running a request now
     * @param queued          requests waiting for a slot now
     * @param slots           slots the engine has
     * @param steps           batched forward passes run so far (llama.cpp's decode calls)
     * @param busySlotSteps   the busy slots of each of those steps, summed (over {@code steps}: the average batch)
     * @param maxCachedTokens the most tokens one slot has held so far
     */
    public record Stats(long requests, long promptTokens, long generatedTokens, long promptNanos, long generationNanos,
                        int busySlots, int queued, int slots, long steps, long busySlotSteps, int maxCachedTokens) {}

    /**
     * One slot as it is between two steps (llama-server's {@code GET /slots}).
     *
     * @param slot            the slot's index, 0 to {@link #slotCount()} - 1
     * @param processing      whether a request runs in it now
     * @param requestId       the request it runs or last ran, numbered from 0 in submission order; -1 before any
     * @param cachedTokens    tokens its cache holds (what a next request with the same beginning skips)
     * @param promptTokens    the prompt length of the request it runs or last ran
     * @param generatedTokens tokens that request has generated so far
     * @param params          that request's sampling and limits; null before any
     * @param adapterScales   the LoRA scales its cached cells were computed with, one per adapter of
     *                        {@link #adapters()} (empty without adapters)
     */
    public record SlotState(int slot, boolean processing, long requestId, int cachedTokens, int promptTokens,
                            int generatedTokens, GenerationParams params, List<Float> adapterScales) {}

    /**
     * A slot's cache written to or read from a file ({@link #saveSlot}, {@link #restoreSlot}).
     *
     * @param slot   the slot
     * @param tokens the tokens whose cells were written or read
     * @param bytes  the file's size
     * @param nanos  how long it took on the engine thread
     */
    public record SlotFile(int slot, int tokens, long bytes, long nanos) {}

    /** A submitted generation. */
    public static final class Request {
        private final long id;
        private final int[] prompt;
        private final GenerationParams params;
        private final Listener listener;
        private final int pinned;          // the slot it must run in, -1 for any
        private final float[] adapterScales; // its own LoRA scales, null: the engine's
        private volatile int slot = -1;
        private volatile boolean cancelled;

        private Request(long id, int[] prompt, GenerationParams params, Listener listener, int pinned, float[] adapterScales) {
            this.id = id;
            this.prompt = prompt;
            this.params = params;
            this.listener = listener;
            this.pinned = pinned;
            this.adapterScales = adapterScales;
        }

        /** {@return the slot it runs in once started (it keeps that number after it ends), -1 while it waits} */
        public int slot() {
            return slot;
        }

        /** Stops the generation at the next step (stop reason CANCELLED) and frees its slot; or drops it from the queue. */
        public void cancel() {
            cancelled = true;
        }
    }

    /** One slot: its cache slot in the pass, the tokens it holds there, and the request it runs. */
    private static final class Slot {
        final int index;
        final int[] cached;
        int cachedLength;
        Request request;
        Continuation continuation;
        int promptDone;          // prompt tokens in the cache so far
        int promptEvaluated;     // of those, evaluated for this request (the rest came from the cache)
        int forgotten;           // tokens context shifts forgot during this request
        long started;
        long promptEnd;
        long lastUsed;
        Request last;            // the request it ran last, for monitoring
        int lastGenerated;
        float[] cellScales = new float[0]; // the LoRA scales its cached cells were computed with

        Slot(int index, int capacity) {
            this.index = index;
            this.cached = new int[capacity];
        }

        boolean busy() {
            return request != null;
        }

        boolean prompting() {
            return request != null && promptDone < request.prompt.length;
        }
    }

    private final Options options;
    private final Model model;
    private final ModelConfig config;
    private final Kernels kernels;
    private BatchedPass pass;  // made, used and closed on the engine thread (a CUDA context binds to its thread)
    private final Slot[] slots;
    private final int slotContext;
    private final int batchSize;
    private final int queueLimit;
    private final ArrayDeque<Request> queue = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Condition idle = lock.newCondition();  // signalled when the slots were emptied after a warm-up
    private boolean forgetAll;                            // guarded by lock
    private final Thread thread;
    private volatile boolean closed;
    private volatile int busy;

    // one step's batch, reused
    private final int[] rows;
    private final BatchedPass.Segment[] segments;
    private final Slot[] segmentSlot;
    private final int[] logitRows;
    private final Slot[] logitSlot;
    private final float[] logitsRow;

    private final AtomicLong requestIds = new AtomicLong();
    private volatile List<LoraAdapter.Applied> adapters = List.of();
    private float[] defaultScales = new float[0]; // the adapters' scales, for requests without their own; engine thread
    /** Work on one slot's cache (or, slot -1, a look at every slot) that runs on the engine thread between steps. */
    private record SlotCommand(int slot, java.util.function.Supplier<Object> action,
                               java.util.concurrent.CompletableFuture<Object> done) {}
    private final ArrayDeque<SlotCommand> commands = new ArrayDeque<>(); // guarded by lock
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong promptTokens = new AtomicLong();
    private final AtomicLong generatedTokens = new AtomicLong();
    private final AtomicLong promptNanos = new AtomicLong();
    private final AtomicLong generationNanos = new AtomicLong();
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong busySlotSteps = new AtomicLong();
    private volatile int maxCachedTokens;
    private long clock;

    /**
     * Starts the engine thread, which opens the batched pass (uploading the weights for CUDA) before this returns.
     *
     * @param model   the model to run; it stays owned by the caller, open while the engine runs
     * @param options slots, context, batch size, threads, queue and device
     * @throws VellamaException when the pass cannot be opened (no CUDA device, not enough memory, ...)
     */
    public BatchEngine(Model model, Options options) {
        this.options = options;
        this.model = model;
        this.config = model.config();
        this.slotContext = options.contextSize() / options.slots();
        this.batchSize = Math.min(options.batchSize(), options.contextSize() / options.slots());
        this.queueLimit = options.queueLimit();
        if (options.device() == SessionOptions.Device.CPU) {
            Session.checkHeapFor(config, slotContext, options.slots(), options.kvCache(), options.kvCache(),
                    batchSize + options.slots());
        }
        int threads = options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
        this.kernels = model.kernels(threads);
        this.slots = new Slot[options.slots()];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = new Slot(i, slotContext);
        }
        this.rows = new int[batchSize + options.slots()];
        this.segments = new BatchedPass.Segment[slots.length];
        this.segmentSlot = new Slot[slots.length];
        this.logitRows = new int[slots.length];
        this.logitSlot = new Slot[slots.length];
        this.logitsRow = new float[config.vocabSize()];
        java.util.concurrent.CompletableFuture<Void> opened = new java.util.concurrent.CompletableFuture<>();
        this.thread = Thread.ofPlatform().name("vellama-engine").daemon().unstarted(() -> run(options, threads, opened));
        thread.start();
        try {
            opened.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new VellamaException("engine failure: " + e.getCause(), e.getCause());
        }
    }

    /** The engine thread: opens the pass, runs steps until closed, frees the pass. */
    private void run(Options options, int threads, java.util.concurrent.CompletableFuture<Void> opened) {
        int maxBatch = batchSize + options.slots();
        try {
            pass = options.device() == SessionOptions.Device.CUDA
                    ? openCuda(options, threads, maxBatch)
                    : new CpuBatchedPass(config, model.weights(), kernels, options.slots(), slotContext, maxBatch,
                    options.kvCache().ggmlType());
        } catch (RuntimeException | Error e) {
            opened.completeExceptionally(e);
            return;
        }
        opened.complete(null);
        try {
            loop();
        } finally {
            pass.close();
        }
    }

    /** The CUDA pass; its classes load only here, so a CPU engine never touches the driver bindings. */
    private BatchedPass openCuda(Options options, int threads, int maxBatch) {
        try {
            return dev.vellama.runtime.cuda.CudaForwardPass.createSlots(config, model.weights(), options.slots(),
                    slotContext, maxBatch, options.gpuLayers(), threads, options.kvCache().ggmlType(), line -> { });
        } catch (dev.vellama.runtime.cuda.CudaUnavailableException e) {
            throw new VellamaException("--device cuda: " + e.getMessage());
        }
    }

    /** {@return the model the engine runs} */
    public Model model() {
        return model;
    }

    /**
     * Positions each slot holds: the largest prompt plus generation one request can have.
     *
     * @return the context size divided by the slot count
     */
    public int slotContext() {
        return slotContext;
    }

    /** {@return the prompt tokens one step evaluates at most (the options' batch size, at most a slot's context)} */
    public int batchSize() {
        return batchSize;
    }

    /** {@return the number of slots, the generations that can run at once} */
    public int slotCount() {
        return slots.length;
    }

    /**
     * The compute threads the engine runs on (what work beside it, such as embeddings, should use too).
     *
     * @return the thread count of the options, or the available processors when that is 0
     */
    public int threads() {
        return options.threads() > 0 ? options.threads() : Runtime.getRuntime().availableProcessors();
    }

    /**
     * Where and how the batched step computes (vector width and threads, or the GPU).
     *
     * @return a one-line description for logs
     */
    public String kernelDescription() {
        return pass.description();
    }

    /**
     * Queues a generation of {@code prompt} (token ids). Refuses at once what can never run: an empty prompt, ids
     * outside the vocabulary, a prompt longer than a slot's context ({@link ContextOverflowException}), and a full
     * queue ({@link QueueFullException}).
     *
     * @param prompt   prompt token ids, BOS included when the model wants one; copied
     * @param params   how to sample and when to stop
     * @param listener hears the tokens and the end on the engine thread
     * @return the queued request, which can be cancelled
     * @throws ContextOverflowException if the prompt is longer than a slot's context
     * @throws QueueFullException       if every slot is busy and the queue is full
     * @throws VellamaException         if the prompt is empty or holds an id outside the vocabulary, or the engine
     *                                  is closed
     */
    public Request submit(int[] prompt, GenerationParams params, Listener listener) {
        return submit(prompt, params, listener, -1);
    }

    /**
     * As {@link #submit(int[], GenerationParams, Listener)}, in slot {@code slot} (llama-server's {@code id_slot}):
     * the request waits until that slot is free, while later requests for other slots go ahead of it.
     *
     * @param prompt   prompt token ids, BOS included when the model wants one; copied
     * @param params   how to sample and when to stop
     * @param listener hears the tokens and the end on the engine thread
     * @param slot     the slot to run in, 0 to {@link #slotCount()} - 1, or -1 for the one that fits best
     * @return the queued request, which can be cancelled
     * @throws IllegalArgumentException if there is no such slot
     * @throws ContextOverflowException if the prompt is longer than a slot's context
     * @throws QueueFullException       if every slot is busy and the queue is full
     * @throws VellamaException         if the prompt is empty or holds an id outside the vocabulary, or the engine
     *                                  is closed
     */
    public Request submit(int[] prompt, GenerationParams params, Listener listener, int slot) {
        return submit(prompt, params, listener, slot, null);
    }

    /**
     * As {@link #submit(int[], GenerationParams, Listener, int)}, with LoRA scales of its own (llama-server's
     * per-request {@code lora}): one per adapter of {@link #adapters()}, 0 for one it should not use. Requests with
     * different scales still run in one batch, each row with its own; a slot's cached tokens are reused only by a
     * request with the scales they were computed with.
     *
     * @param prompt        prompt token ids, BOS included when the model wants one; copied
     * @param params        how to sample and when to stop
     * @param listener      hears the tokens and the end on the engine thread
     * @param slot          the slot to run in, or -1 for the one that fits best
     * @param adapterScales a scale per adapter, in the order of {@link #adapters()}; null for the engine's
     * @return the queued request, which can be cancelled
     * @throws IllegalArgumentException if there is no such slot, or the scales do not match the adapters
     * @throws ContextOverflowException if the prompt is longer than a slot's context
     * @throws QueueFullException       if every slot is busy and the queue is full
     * @throws VellamaException         if the prompt is empty or holds an id outside the vocabulary, or the engine
     *                                  is closed
     */
    public Request submit(int[] prompt, GenerationParams params, Listener listener, int slot, float[] adapterScales) {
        if (adapterScales != null) {
            if (adapterScales.length != adapters.size()) {
                throw new IllegalArgumentException(adapterScales.length + " adapter scales for the engine's " + adapters.size()
                        + " adapters");
            }
            for (float f : adapterScales) {
                if (!Float.isFinite(f)) {
                    throw new IllegalArgumentException("an adapter scale must be a finite number, not " + f);
                }
            }
            adapterScales = adapterScales.clone();
        }
        if (slot < -1 || slot >= slots.length) {
            throw new IllegalArgumentException("there is no slot " + slot + ": the engine has " + slots.length
                    + " (0 to " + (slots.length - 1) + ", or -1 for any)");
        }
        if (prompt.length == 0) {
            throw new VellamaException("the prompt is empty: it has no tokens");
        }
        for (int id : prompt) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new VellamaException("token id " + id + " is outside the vocabulary of " + config.vocabSize());
            }
        }
        if (prompt.length > slotContext) {
            throw new ContextOverflowException("the prompt has " + prompt.length + " tokens but a slot's context holds "
                    + slotContext);
        }
        Request r = new Request(requestIds.getAndIncrement(), prompt.clone(), params, listener, slot, adapterScales);
        lock.lock();
        try {
            if (closed) {
                throw new VellamaException("the engine is closed");
            }
            if (queue.size() >= queueLimit + Math.max(0, slots.length - busy)) {
                throw new QueueFullException("all " + slots.length + " slots are busy and " + queue.size()
                        + " requests are waiting; try again later");
            }
            queue.add(r);
            work.signal();
        } finally {
            lock.unlock();
        }
        return r;
    }

    /** {@return the counters so far and the slots and queue now} */
    public Stats stats() {
        int q;
        lock.lock();
        try {
            q = queue.size();
        } finally {
            lock.unlock();
        }
        return new Stats(requests.get(), promptTokens.get(), generatedTokens.get(), promptNanos.get(),
                generationNanos.get(), busy, q, slots.length, steps.get(), busySlotSteps.get(), maxCachedTokens);
    }

    private void loop() {
        while (!closed) {
            try {
                boolean generating = admit();
                runCommands();
                if (generating) {
                    step();
                }
            } catch (RuntimeException | Error e) {
                failAll(e instanceof RuntimeException re ? re : new VellamaException("engine failure: " + e, e));
            }
        }
        failAll(new VellamaException("the engine is closed"));
    }

    /** A slot command's slot that means every slot, run once none is busy. */
    private static final int ALL_SLOTS = -2;

    /** Runs the slot commands whose slot is free (or that look at all slots), outside the lock, on this thread. */
    private void runCommands() {
        List<SlotCommand> runnable = new java.util.ArrayList<>();
        lock.lock();
        try {
            for (var it = commands.iterator(); it.hasNext(); ) {
                SlotCommand c = it.next();
                if (c.slot() == -1 || c.slot() == ALL_SLOTS && busy == 0 || c.slot() >= 0 && !slots[c.slot()].busy()) {
                    runnable.add(c);
                    it.remove();
                }
            }
        } finally {
            lock.unlock();
        }
        for (SlotCommand c : runnable) {
            try {
                c.done().complete(c.action().get());
            } catch (RuntimeException e) {
                c.done().completeExceptionally(e);
            }
        }
    }

    /** Whether a slot command waits for this slot: no new request goes into it until the command has run. */
    private boolean reserved(Slot s) {
        for (SlotCommand c : commands) {
            if (c.slot() == s.index || c.slot() == ALL_SLOTS) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs {@code action} on the engine thread between two steps, once slot {@code slot} is free (at once for -1),
     * and waits for it.
     */
    @SuppressWarnings("unchecked")
    private <T> T onEngineThread(int slot, java.util.function.Supplier<T> action) {
        if (Thread.currentThread() == thread) { // a listener: waiting for the engine thread would wait for itself
            if (slot == -1) {
                return action.get();
            }
            throw new IllegalStateException("a slot's cache cannot be changed from a listener, on the engine thread");
        }
        java.util.concurrent.CompletableFuture<Object> done = new java.util.concurrent.CompletableFuture<>();
        lock.lock();
        try {
            if (closed) {
                throw new VellamaException("the engine is closed");
            }
            commands.add(new SlotCommand(slot, action::get, done));
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            return (T) done.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new VellamaException("engine failure: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VellamaException("interrupted while waiting for the engine", e);
        }
    }

    /**
     * Every slot as it is between two steps: what it holds and the request it runs or last ran.
     *
     * @return one state per slot, in slot order
     * @throws VellamaException if the engine is closed
     */
    public List<SlotState> slotStates() {
        return onEngineThread(-1, () -> {
            List<SlotState> states = new java.util.ArrayList<>(slots.length);
            for (Slot s : slots) {
                Request r = s.busy() ? s.request : s.last;
                int generated = s.busy() ? s.continuation.tokens().size() : s.lastGenerated;
                List<Float> scales = new java.util.ArrayList<>();
                for (float f : s.cachedLength > 0 || r != null ? s.cellScales : defaultScales) {
                    scales.add(f);
                }
                states.add(new SlotState(s.index, s.busy(), r == null ? -1 : r.id, s.cachedLength,
                        r == null ? 0 : r.prompt.length, r == null ? 0 : generated, r == null ? null : r.params,
                        List.copyOf(scales)));
            }
            return List.copyOf(states);
        });
    }

    /**
     * Whether {@link #saveSlot} and {@link #restoreSlot} work here: the CPU keeps each slot's cache on the Java heap,
     * the batched CUDA pass copies a slot's cells to and from one.
     *
     * @return true when slots can be saved and restored
     */
    public boolean canSaveSlots() {
        return onEngineThread(-1, () -> pass.hostCache(0) != null || pass.copiesSlots());
    }

    /**
     * Writes what slot {@code slot} holds (its tokens and their KV cells) to {@code file}, in the format of
     * {@link Session#save}; waits until the slot is free (a running request finishes first), and no new request
     * enters the slot meanwhile.
     *
     * @param slot the slot, 0 to {@link #slotCount()} - 1
     * @param file where to write; an existing file is replaced
     * @return the tokens written, the file's size and the time taken
     * @throws IllegalArgumentException if there is no such slot
     * @throws SessionFileException     if the slot holds nothing or the file cannot be written
     * @throws VellamaException         if this engine's pass cannot save slots ({@link #canSaveSlots()})
     */
    public SlotFile saveSlot(int slot, java.nio.file.Path file) {
        checkSlot(slot);
        return onEngineThread(slot, () -> {
            Slot s = slots[slot];
            if (s.cachedLength == 0) {
                throw new SessionFileException("slot " + slot + " holds no tokens: there is nothing to save");
            }
            long t0 = System.nanoTime();
            KvCache cache = pass.hostCache(slot);
            if (cache == null) { // on a device: its cells copied into the heap cache a CPU slot would keep
                cache = deviceCacheCopy();
                if (!pass.copySlotTo(slot, cache, s.cachedLength)) {
                    throw unsupported();
                }
            }
            SessionFile.write(file, model, cache, new SessionFile.State(java.util.Arrays.copyOf(s.cached, s.cachedLength), 0, 0));
            long nanos = System.nanoTime() - t0;
            return new SlotFile(slot, s.cachedLength, sizeOf(file), nanos);
        });
    }

    /**
     * Replaces what slot {@code slot} holds with a file written by {@link #saveSlot} or {@link Session#save} with this
     * model file and cache type; a next request that begins with its tokens evaluates only the rest. Waits until
     * the slot is free.
     *
     * @param slot the slot, 0 to {@link #slotCount()} - 1
     * @param file the saved cache
     * @return the tokens read, the file's size and the time taken
     * @throws IllegalArgumentException if there is no such slot
     * @throws SessionFileException     if the file is missing, cut short, damaged, saved with another model or cache
     *                                  type, or holds more tokens than a slot's context; the slot is then empty
     * @throws VellamaException         if this engine's pass cannot restore slots ({@link #canSaveSlots()})
     */
    public SlotFile restoreSlot(int slot, java.nio.file.Path file) {
        checkSlot(slot);
        return onEngineThread(slot, () -> {
            Slot s = slots[slot];
            KvCache host = pass.hostCache(slot);
            if (host == null && !pass.copiesSlots()) {
                throw unsupported();
            }
            KvCache cache = host != null ? host : deviceCacheCopy();
            long t0 = System.nanoTime();
            s.cachedLength = 0; // a read that fails half-way leaves no cells this slot would trust
            int[] cells = SessionFile.read(file, model, cache).cells();
            if (host == null && !pass.copySlotFrom(slot, cache, cells.length)) {
                throw unsupported();
            }
            System.arraycopy(cells, 0, s.cached, 0, cells.length);
            s.cachedLength = cells.length;
            s.cellScales = defaultScales; // a file does not say; its cells are taken as the engine's adapters made them
            s.lastUsed = ++clock;
            return new SlotFile(slot, cells.length, sizeOf(file), System.nanoTime() - t0);
        });
    }

    /**
     * Forgets what slot {@code slot} holds; waits until the slot is free.
     *
     * @param slot the slot, 0 to {@link #slotCount()} - 1
     * @return the tokens it held
     * @throws IllegalArgumentException if there is no such slot
     */
    public int eraseSlot(int slot) {
        checkSlot(slot);
        return onEngineThread(slot, () -> {
            int n = slots[slot].cachedLength;
            slots[slot].cachedLength = 0;
            return n;
        });
    }

    /**
     * Applies LoRA adapters from the next request on, each at its scale (an empty list: none), as llama-server's
     * {@code POST /lora-adapters}: waits until no slot is busy (new requests wait meanwhile), and every slot forgets
     * what it holds, whose cells were computed with other weights.
     *
     * @param adapters the adapters and their scales, loaded for this engine's model
     * @throws VellamaException if the engine runs on a GPU (adapters run on the CPU only for now)
     */
    public void useAdapters(List<LoraAdapter.Applied> adapters) {
        List<LoraAdapter.Applied> copy = List.copyOf(adapters);
        onEngineThread(ALL_SLOTS, () -> {
            if (!pass.adapters(LoraAdapter.products(copy, model.kernels(1)))) {
                throw new VellamaException("LoRA adapters run on the CPU only for now; the engine runs on " + pass.description());
            }
            for (Slot s : slots) {
                s.cachedLength = 0;
            }
            float[] scales = new float[copy.size()];
            for (int i = 0; i < scales.length; i++) {
                scales[i] = copy.get(i).scale();
            }
            defaultScales = scales;
            this.adapters = copy;
            return null;
        });
    }

    /** {@return the LoRA adapters applied now, with their scales} */
    public List<LoraAdapter.Applied> adapters() {
        return adapters;
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= slots.length) {
            throw new IllegalArgumentException("there is no slot " + slot + ": the engine has " + slots.length);
        }
    }

    private VellamaException unsupported() {
        return new VellamaException("slots cannot be saved or restored on " + pass.description());
    }

    /**
     * A heap cache of one slot's positions in the types the device keeps: what a device slot is saved from and
     * restored into, so its files open in a CPU slot or session with the same cache type and the other way round.
     */
    private KvCache deviceCacheCopy() {
        return KvCache.of(config, 0, slotContext, options.kvCache().ggmlType(), options.kvCache().ggmlType(), batchSize);
    }

    /**
     * The LoRA scales a request runs with: its own, or the engine's (none without adapters; also when the adapters
     * changed in number since it was submitted).
     */
    private float[] scalesOf(Request r) {
        return r.adapterScales != null && r.adapterScales.length == defaultScales.length ? r.adapterScales : defaultScales;
    }

    private static long sizeOf(java.nio.file.Path file) {
        try {
            return java.nio.file.Files.size(file);
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    /** Moves queued requests into free slots; waits while there is nothing to do. False when woken with no work. */
    private boolean admit() {
        lock.lock();
        try {
            while (true) {
                if (forgetAll && busy == 0) { // after a warm-up: empty slots, counters from zero
                    for (Slot s : slots) {
                        s.cachedLength = 0;
                        s.last = null;
                        s.lastGenerated = 0;
                    }
                    requestIds.set(0);
                    requests.set(0);
                    promptTokens.set(0);
                    generatedTokens.set(0);
                    promptNanos.set(0);
                    generationNanos.set(0);
                    steps.set(0);
                    busySlotSteps.set(0);
                    maxCachedTokens = 0;
                    forgetAll = false;
                    idle.signalAll();
                }
                if (closed || !queue.isEmpty() || busy > 0 || !commands.isEmpty()) {
                    break;
                }
                work.awaitUninterruptibly();
            }
            for (var it = queue.iterator(); it.hasNext(); ) {
                Request r = it.next();
                if (r.cancelled) {
                    it.remove();
                    finishUnstarted(r);
                    continue;
                }
                Slot s = slotFor(r);
                if (s == null) {
                    if (r.pinned < 0) {
                        break; // no slot is free: nothing behind it fits either
                    }
                    continue; // its slot is busy: requests for other slots go ahead
                }
                it.remove();
                start(s, r);
            }
            return !closed && busy > 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The request's own slot when it names one and that is free; else the free slot holding the longest prefix of
     * its prompt, among equals the least recently used.
     */
    private Slot slotFor(Request r) {
        if (r.pinned >= 0) {
            Slot s = slots[r.pinned];
            return s.busy() || reserved(s) ? null : s;
        }
        int[] prompt = r.prompt;
        Slot best = null;
        int bestPrefix = -1;
        for (Slot s : slots) {
            if (s.busy() || reserved(s)) {
                continue;
            }
            int p = commonPrefix(s, r);
            if (p > bestPrefix || (p == bestPrefix && s.lastUsed < best.lastUsed)) {
                best = s;
                bestPrefix = p;
            }
        }
        return best;
    }

    /**
     * What the slot holds of the prompt's beginning and can go on from (0 when its sliding-window ring has forgotten
     * the window before the point where they part), at most all but the prompt's last token, whose logits are needed.
     */
    private int commonPrefix(Slot s, Request r) {
        int[] prompt = r.prompt;
        if (!java.util.Arrays.equals(s.cellScales, scalesOf(r))) {
            return 0; // its cells were computed with other adapter scales
        }
        int n = 0;
        while (n < s.cachedLength && n < prompt.length - 1 && s.cached[n] == prompt[n]) {
            n++;
        }
        return pass.canContinueAt(s.index, n) ? n : 0;
    }

    /**
     * A context shift of a full slot whose request allows one: the oldest half after the kept tokens (the request's
     * {@code keep}, else its BOS) is forgotten. False when the request stops instead, or the pass cannot shift.
     */
    private boolean shift(Slot s) {
        ContextShift policy = s.request.params.contextShift();
        boolean wanted = policy.mode() == ContextShift.Mode.SHIFT
                || policy.mode() == ContextShift.Mode.AUTO && options.contextShift();
        if (!wanted) {
            return false;
        }
        int bos = model.tokenizer().bos();
        int keep = policy.keep() != ContextShift.KEEP_DEFAULT ? Math.min(policy.keep(), s.cachedLength)
                : s.cachedLength > 0 && bos >= 0 && s.cached[0] == bos ? 1 : 0;
        int discard = Math.min((s.cachedLength - keep) / 2, pass.maxDiscard(s.index, keep, s.cachedLength));
        if (discard < 1 || !pass.shiftSlot(s.index, keep, discard, s.cachedLength)) {
            return false;
        }
        System.arraycopy(s.cached, keep + discard, s.cached, keep, s.cachedLength - keep - discard);
        s.cachedLength -= discard;
        s.forgotten += discard;
        return true;
    }

    private void start(Slot s, Request r) {
        int keep = commonPrefix(s, r);
        s.cellScales = scalesOf(r);
        s.cachedLength = keep;
        s.promptDone = keep;
        s.promptEvaluated = 0;
        s.forgotten = 0;
        s.request = r;
        r.slot = s.index;
        s.continuation = new Continuation(model.tokenizer(), config.vocabSize(), r.params, kernels);
        s.started = System.nanoTime();
        s.lastUsed = ++clock;
        busy++;
        requests.incrementAndGet();
    }

    /**
     * One step: ends what must end (cancelled, at its limit, out of context), then runs every generating slot's
     * last token and as much pending prompt as the batch holds through the model, and samples each slot whose
     * logits came out.
     */
    private void step() {
        for (Slot s : slots) {
            if (!s.busy()) {
                continue;
            }
            if (s.request.cancelled) {
                end(s, StopReason.CANCELLED);
            } else if (!s.prompting() && s.continuation.limitReached()) {
                end(s, StopReason.LENGTH);
            } else if (!s.prompting() && s.cachedLength >= slotContext && !shift(s)) {
                end(s, StopReason.CONTEXT);
            }
        }
        int n = 0;
        int count = 0;
        int logits = 0;
        for (Slot s : slots) { // generating slots first: one row each
            if (s.busy() && !s.prompting()) {
                s.cached[s.cachedLength] = s.continuation.lastId();
                rows[n] = s.continuation.lastId();
                segments[count] = new BatchedPass.Segment(s.index, n, 1, s.cachedLength);
                segmentSlot[count++] = s;
                logitRows[logits] = n;
                logitSlot[logits++] = s;
                n++;
            }
        }
        // then prompt chunks as a session would cut them (the batch size from where the prompt's evaluation
        // starts), as many as the batch holds: one-row chunks first, as the pass multiplies single rows together
        int budget = batchSize;
        for (int pass = 0; pass < 2; pass++) {
            for (Slot s : slots) {
                if (!s.prompting()) {
                    continue;
                }
                int[] prompt = s.request.prompt;
                int take = Math.min(batchSize, prompt.length - s.promptDone);
                if ((take == 1) != (pass == 0) || take > budget) {
                    continue;
                }
                System.arraycopy(prompt, s.promptDone, rows, n, take);
                System.arraycopy(prompt, s.promptDone, s.cached, s.promptDone, take);
                segments[count] = new BatchedPass.Segment(s.index, n, take, s.promptDone);
                segmentSlot[count++] = s;
                if (s.promptDone + take == prompt.length) {
                    logitRows[logits] = n + take - 1;
                    logitSlot[logits++] = s;
                }
                n += take;
                budget -= take;
            }
        }
        if (n == 0) {
            return;
        }
        pass.adapterRowScales(rowScales(n, count));
        float[] out = pass.forwardBatch(rows, n, segments, count, logitRows, logits);
        long now = System.nanoTime();
        steps.incrementAndGet();
        busySlotSteps.addAndGet(busy);
        for (int i = 0; i < count; i++) {
            Slot s = segmentSlot[i];
            BatchedPass.Segment seg = segments[i];
            s.cachedLength = seg.pos() + seg.n();
            if (s.cachedLength > maxCachedTokens) {
                maxCachedTokens = s.cachedLength;
            }
            if (s.prompting()) {
                s.promptDone += seg.n();
                s.promptEvaluated += seg.n();
                if (!s.prompting()) {
                    s.promptEnd = now;
                }
            }
        }
        int vocab = config.vocabSize();
        for (int i = 0; i < logits; i++) {
            Slot s = logitSlot[i];
            System.arraycopy(out, i * vocab, logitsRow, 0, vocab);
            Continuation c = s.continuation;
            if (c.limitReached()) { // a limit of 0 tokens
                end(s, StopReason.LENGTH);
                continue;
            }
            GeneratedToken t = c.next(logitsRow, s.cached, s.cachedLength);
            if (t != null && !deliver(s, t)) {
                continue;
            }
            if (c.ended()) {
                end(s, c.stopReason());
            }
        }
    }

    /**
     * Each row's LoRA scales when a request of this step has scales of its own ([row][adapter]); null when every row
     * takes the engine's.
     */
    private float[] rowScales(int rows, int count) {
        int width = defaultScales.length;
        boolean own = false;
        for (int i = 0; i < count && !own; i++) {
            own = scalesOf(segmentSlot[i].request) != defaultScales;
        }
        if (!own || width == 0) {
            return null;
        }
        float[] scales = new float[rows * width];
        for (int i = 0; i < count; i++) {
            float[] f = scalesOf(segmentSlot[i].request);
            BatchedPass.Segment seg = segments[i];
            for (int row = seg.row(); row < seg.row() + seg.n(); row++) {
                System.arraycopy(f, 0, scales, row * width, width);
            }
        }
        return scales;
    }

    /** Hands a token to the listener; a listener that throws cancels its request. */
    private boolean deliver(Slot s, GeneratedToken t) {
        try {
            s.request.listener.onToken(t);
            return true;
        } catch (RuntimeException e) {
            s.request.cancelled = true;
            end(s, StopReason.CANCELLED);
            return false;
        }
    }

    /** Ends the slot's request: the held-back text, the result, the counters; the slot keeps its cache. */
    private void end(Slot s, StopReason reason) {
        Request r = s.request;
        Continuation c = s.continuation;
        GeneratedToken last = c.finish(reason);
        long now = System.nanoTime();
        long promptEnd = s.promptEnd >= s.started ? s.promptEnd : now;
        Timings timings = new Timings(s.promptEvaluated, promptEnd - s.started, c.tokens().size(), now - promptEnd);
        s.request = null;
        s.continuation = null;
        s.last = r;
        s.lastGenerated = c.tokens().size();
        s.promptEnd = 0;
        s.lastUsed = ++clock;
        lock.lock();
        try {
            busy--;
            work.signal();
        } finally {
            lock.unlock();
        }
        promptTokens.addAndGet(timings.promptTokens());
        generatedTokens.addAndGet(timings.generatedTokens());
        promptNanos.addAndGet(timings.promptNanos());
        generationNanos.addAndGet(timings.generationNanos());
        try {
            if (last != null) {
                r.listener.onToken(last);
            }
            r.listener.onEnd(new GenerationResult(r.prompt, List.copyOf(c.tokens()), c.text(), c.stopReason(), timings,
                    s.forgotten));
        } catch (RuntimeException ignored) {
            // the listener's owner is gone; the slot is already free
        }
    }

    private void finishUnstarted(Request r) {
        try {
            r.listener.onEnd(new GenerationResult(r.prompt, List.of(), "", StopReason.CANCELLED, new Timings(0, 0, 0, 0)));
        } catch (RuntimeException ignored) {
            // nobody is listening any more
        }
    }

    /** After an engine failure every slot forgets its cache (it may be half written) and every request hears why. */
    private void failAll(RuntimeException e) {
        for (Slot s : slots) {
            if (s.busy()) {
                Request r = s.request;
                s.request = null;
                s.continuation = null;
                try {
                    r.listener.onError(e);
                } catch (RuntimeException ignored) {
                    // nobody is listening any more
                }
            }
            s.cachedLength = 0;
        }
        lock.lock();
        try {
            busy = 0;
            if (closed) {
                for (Request r : queue) {
                    try {
                        r.listener.onError(e);
                    } catch (RuntimeException ignored) {
                        // nobody is listening any more
                    }
                }
                queue.clear();
                for (SlotCommand c : commands) {
                    c.done().completeExceptionally(e);
                }
                commands.clear();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs throwaway generations before the first real request, as llama-server warms up at start: the packed
     * copies of the weights get made and the JIT compiler sees the prompt, one-row and several-row decode paths,
     * so the first clients do not wait for either (on a 1B model that is seconds). Up to four slots at once, each
     * a 16-token prompt of ordinary ids and {@code tokens} sampled tokens; afterwards the counters start from zero
     * and the slots hold nothing, and the weights' background work is done ({@link dev.vellama.quant.Kernels#settle}).
     * Call it before serving: it waits, and a real request submitted meanwhile would
     * be counted with it.
     *
     * @param tokens tokens each warm-up generation samples (at least 1)
     * @return the time it took
     * @throws VellamaException if a warm-up generation fails
     */
    public java.time.Duration warmUp(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("warm-up of " + tokens + " tokens");
        }
        long t0 = System.nanoTime();
        int promptLength = Math.min(16, Math.max(1, slotContext - tokens - 1));
        GenerationParams params = GenerationParams.builder().temperature(0.8f).seed(1L).maxTokens(tokens).ignoreEos(true).build();
        runAtOnce(1, promptLength, params); // one row a step: the one-token kernels
        if (slots.length > 1) {
            runAtOnce(Math.min(slots.length, 4), promptLength, params); // several rows a step: matvecMany
        }
        lock.lock();
        try { // the engine thread empties the slots once it is idle (it alone touches them)
            forgetAll = true;
            work.signal();
            while (forgetAll && !closed) {
                idle.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
        // the packed copies' gathering into huge pages happens before the first client, not during
        dev.vellama.quant.Kernels.settle();
        return java.time.Duration.ofNanos(System.nanoTime() - t0);
    }

    /** Runs {@code n} throwaway generations at once (ordinary ids spread over the vocabulary) and waits for them. */
    private void runAtOnce(int n, int promptLength, GenerationParams params) {
        int vocab = config.vocabSize();
        int bos = model.tokenizer().bos();
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(n);
        java.util.concurrent.atomic.AtomicReference<RuntimeException> failure = new java.util.concurrent.atomic.AtomicReference<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = new int[promptLength];
            for (int j = 0; j < promptLength; j++) { // a different prompt per generation after the BOS
                prompt[j] = (int) ((1000L + 7919L * (i * promptLength + j)) % vocab);
            }
            if (bos >= 0) {
                prompt[0] = bos; // as real prompts begin (and the BOS is what a next prompt would share with it)
            }
            submit(prompt, params, new Listener() {
                @Override
                public void onToken(GeneratedToken token) {
                }

                @Override
                public void onEnd(GenerationResult result) {
                    done.countDown();
                }

                @Override
                public void onError(RuntimeException error) {
                    failure.compareAndSet(null, error);
                    done.countDown();
                }
            });
        }
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VellamaException("interrupted while warming up", e);
        }
        if (failure.get() != null) {
            throw new VellamaException("warm-up failed: " + failure.get().getMessage(), failure.get());
        }
    }

    /** Stops the engine thread; running and queued requests end with an error. The model stays open. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            work.signalAll();
            idle.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
