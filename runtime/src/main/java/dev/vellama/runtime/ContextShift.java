package dev.vellama.runtime;

/**
 * What a generation does when its session's context is full.
 *
 * <ul>
 *   <li>{@link Mode#SHIFT}: llama.cpp's context shift. The first {@code keep} tokens stay, the oldest half of the
 *       rest is forgotten, and the generation goes on. Applies to prompts longer than the context too: their oldest
 *       part after the kept prefix is forgotten as they are read.</li>
 *   <li>{@link Mode#DROP_OLDEST_TURNS}: for {@link Session#chat}, the conversation is sent again without its
 *       oldest user and assistant messages until it fits with room for a reply; a reply that fills the context
 *       ends with {@link StopReason#CONTEXT}. Elsewhere as {@link Mode#STOP}.</li>
 *   <li>{@link Mode#STOP}: the generation ends with {@link StopReason#CONTEXT}; a prompt longer than the context is
 *       refused.</li>
 *   <li>{@link Mode#AUTO}: {@code SHIFT} in {@link Session#chat}, {@code STOP} elsewhere (llama.cpp's completion
 *       tool also stops unless asked to shift).</li>
 * </ul>
 *
 * @param mode what happens when the context is full
 * @param keep tokens at the start that are never forgotten; {@link #KEEP_DEFAULT}: the BOS token, and in a chat
 *             the system message as the chat template renders it
 */
public record ContextShift(Mode mode, int keep) {
    public static final int KEEP_DEFAULT = -1;
    public static final ContextShift AUTO = new ContextShift(Mode.AUTO, KEEP_DEFAULT);
    public static final ContextShift SHIFT = new ContextShift(Mode.SHIFT, KEEP_DEFAULT);
    public static final ContextShift STOP = new ContextShift(Mode.STOP, KEEP_DEFAULT);
    public static final ContextShift DROP_OLDEST_TURNS = new ContextShift(Mode.DROP_OLDEST_TURNS, KEEP_DEFAULT);

    /** See the class comment. */
    public enum Mode {
        /** {@code SHIFT} in a chat, {@code STOP} elsewhere. */
        AUTO,
        /** Forget the oldest half of the tokens after the kept prefix and go on. */
        SHIFT,
        /** In a chat, drop the oldest turns and send the conversation again; elsewhere as {@code STOP}. */
        DROP_OLDEST_TURNS,
        /** End the generation with {@link StopReason#CONTEXT}; refuse a prompt longer than the context. */
        STOP
    }

    /**
     * Checks the components.
     *
     * @throws NullPointerException     if {@code mode} is null
     * @throws IllegalArgumentException if {@code keep} is negative and not {@link #KEEP_DEFAULT}
     */
    public ContextShift {
        java.util.Objects.requireNonNull(mode);
        if (keep < KEEP_DEFAULT) {
            throw new IllegalArgumentException("keep must be 0 or more, or KEEP_DEFAULT");
        }
    }

    /**
     * The same mode, never forgetting the first {@code n} tokens.
     *
     * @param n tokens at the start to keep, or {@link #KEEP_DEFAULT}
     * @return a new policy with that {@code keep}
     */
    public ContextShift keeping(int n) {
        return new ContextShift(mode, n);
    }

    /** The mode {@code AUTO} stands for where the call is a chat or not. */
    Mode resolve(boolean chat) {
        if (mode == Mode.AUTO) {
            return chat ? Mode.SHIFT : Mode.STOP;
        }
        return mode == Mode.DROP_OLDEST_TURNS && !chat ? Mode.STOP : mode;
    }
}
