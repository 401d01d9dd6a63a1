package dev.vellama.runtime.chat;

import java.util.function.IntFunction;

/**
 * Splits one reply, token by token as it is generated, into its reasoning and its answer ({@link ReasoningFormat}).
 * Each {@link #accept} returns what the token added to either; text that may be the start of a tag is held back
 * until the next tokens tell, and {@link #finish} hands out what is still held. Not thread-safe: one per reply.
 *
 * <p>{@code <think>} tags: the reasoning is what stands between {@code <think>} (at the start of the reply, or left
 * open at the end of the prompt) and {@code </think>}; the answer is the rest, without the whitespace that follows
 * {@code </think>}. A reply that does not start with {@code <think>} is all answer.
 *
 * <p>Harmony: text on the {@code analysis} channel is reasoning; text on {@code final} and {@code commentary} is the
 * answer; a message to {@code functions.NAME} (a header with {@code to=functions.NAME}) is a tool call, its body the
 * arguments ({@link #toolCalls()}); headers ({@code <|start|>assistant<|channel|>final<|message|>}) are none of
 * these. A reply that begins with plain text instead of a channel header is all answer.
 *
 * <p>Gemma 4, read as llama.cpp reads it: the reasoning is the text of each thought channel, from
 * {@code <|channel>thought} (and the whitespace after it) to {@code <channel|>}; a reply may hold several, before
 * and after its words, and their texts are joined. Everything else up to a {@code <channel|>} that closes no channel
 * is the answer, as written; after such a stray {@code <channel|>} only tool calls are kept. A {@code <|channel>}
 * that opens no thought is dropped. Tool calls ({@code <|tool_call>…<tool_call|>}) are passed through to the answer
 * whole, markers included, for {@link ToolCallFormat#GEMMA4} to read.
 */
public final class ReasoningSplitter {
    private static final String OPEN = "<think>";
    private static final String CLOSE = "</think>";
    private static final String CHANNEL_OPEN = "<|channel>";
    private static final String CHANNEL_CLOSE = "<channel|>";
    private static final String THOUGHT = "thought";
    private static final String CALL_OPEN = Gemma4Notation.OPEN;
    private static final String CALL_CLOSE = Gemma4Notation.CLOSE;

    /**
     * What one token added to the reasoning and to the answer; either may be empty.
     *
     * @param reasoning the text added to the reasoning
     * @param content   the text added to the answer
     */
    public record Delta(String reasoning, String content) {
        static final Delta NONE = new Delta("", "");

        /** {@return whether the token added nothing} */
        public boolean isEmpty() {
            return reasoning.isEmpty() && content.isEmpty();
        }
    }

    /**
     * Where the reply is. Gemma 4: CHANNEL just after {@code <|channel>}, THOUGHT_START in the whitespace after
     * {@code <|channel>thought}, CALL inside a tool call, ENDED after a stray {@code <channel|>}, and CALL_AFTER_END
     * inside a tool call after it.
     */
    private enum State { BEFORE, REASONING, AFTER_CLOSE, CONTENT, HEADER, BODY, CHANNEL, THOUGHT_START, CALL, ENDED,
        CALL_AFTER_END }

    private final ReasoningFormat format;
    private final IntFunction<String> controlText;
    private final StringBuilder reasoning = new StringBuilder();
    private final StringBuilder content = new StringBuilder();
    private State state;
    private String held = "";
    // harmony: the header being read, and whether the current message's text is reasoning
    private final StringBuilder header = new StringBuilder();
    private boolean sawMarker;
    private boolean analysis;
    private String callName;            // the function the current message calls, or null
    private final StringBuilder callArguments = new StringBuilder();
    private final java.util.List<ToolCall> calls = new java.util.ArrayList<>();

    ReasoningSplitter(ReasoningFormat format, boolean startsInReasoning, IntFunction<String> controlText) {
        this.format = format;
        this.controlText = controlText;
        this.state = switch (format) {
            case NONE -> State.CONTENT;
            case THINK_TAGS -> startsInReasoning ? State.REASONING : State.BEFORE;
            case HARMONY -> State.HEADER;
            case GEMMA4 -> State.CONTENT;
        };
    }

    /** Whether a rendered prompt leaves a {@code <think>} open at its end, so the reply starts in its reasoning. */
    static boolean endsInsideThink(String prompt) {
        int open = prompt.lastIndexOf(OPEN);
        return open >= 0 && prompt.indexOf(CLOSE, open) < 0 && prompt.substring(open + OPEN.length()).isBlank();
    }

    /**
     * Takes the next generated token.
     *
     * @param id   the token's id (harmony's markers are control tokens, known by id)
     * @param text the token's decoded text (empty for a control token)
     * @return what the token added to the reasoning and to the answer
     */
    public Delta accept(int id, String text) {
        if (format == ReasoningFormat.HARMONY) {
            return harmony(id, text);
        }
        if (text.isEmpty()) {
            return Delta.NONE;
        }
        return format == ReasoningFormat.GEMMA4 ? gemma4(text) : think(text);
    }

    /** {@return what was held back (a possible tag that the reply ended in), now handed out} */
    public Delta finish() {
        endCall();
        String rest = held;
        held = "";
        if (rest.isEmpty()) {
            return Delta.NONE;
        }
        if (format == ReasoningFormat.GEMMA4) {
            return switch (state) {
                case REASONING -> reasoning(rest);
                case CONTENT, CALL, CALL_AFTER_END -> content(rest);
                default -> Delta.NONE; // a channel's name cut short, or text after the reply's end
            };
        }
        return state == State.REASONING ? reasoning(rest) : content(rest);
    }

    /** {@return whether the splitter must see the reply's tokens, not only its text} (harmony: its markers are control tokens) */
    public boolean readsTokens() {
        return format == ReasoningFormat.HARMONY;
    }

    /** {@return the reasoning so far} */
    public String reasoning() {
        return reasoning.toString();
    }

    /** {@return the answer so far} */
    public String content() {
        return content.toString();
    }

    /** {@return the tool calls the reply made (harmony's messages to {@code functions.NAME}), complete ones only} */
    public java.util.List<ToolCall> toolCalls() {
        return java.util.List.copyOf(calls);
    }

    private Delta think(String text) {
        String buf = held + text;
        held = "";
        StringBuilder r = new StringBuilder();
        StringBuilder c = new StringBuilder();
        while (!buf.isEmpty()) {
            switch (state) {
                case BEFORE -> {
                    String trimmed = buf.stripLeading();
                    if (trimmed.startsWith(OPEN)) {
                        buf = trimmed.substring(OPEN.length());
                        state = State.REASONING;
                    } else if (OPEN.startsWith(trimmed)) {
                        held = buf; // whitespace or a part of <think> so far
                        buf = "";
                    } else {
                        state = State.CONTENT;
                    }
                }
                case REASONING -> buf = readUntil(buf, CLOSE, r, false, State.AFTER_CLOSE);
                case AFTER_CLOSE -> {
                    buf = buf.stripLeading();
                    if (!buf.isEmpty()) {
                        state = State.CONTENT;
                    }
                }
                default -> {
                    c.append(buf);
                    buf = "";
                }
            }
        }
        reasoning.append(r);
        content.append(c);
        return r.isEmpty() && c.isEmpty() ? Delta.NONE : new Delta(r.toString(), c.toString());
    }

    private Delta gemma4(String text) {
        String buf = held + text;
        held = "";
        StringBuilder r = new StringBuilder();
        StringBuilder c = new StringBuilder();
        while (!buf.isEmpty()) {
            switch (state) {
                case CONTENT, ENDED -> {
                    boolean ended = state == State.ENDED;
                    int open = buf.indexOf(CHANNEL_OPEN);
                    int close = buf.indexOf(CHANNEL_CLOSE);
                    int call = buf.indexOf(CALL_OPEN);
                    int at = firstOf(ended ? -1 : open, ended ? -1 : close, call);
                    if (at < 0) {
                        int keep = Math.max(partialSuffix(buf, CALL_OPEN), ended ? 0
                                : Math.max(partialSuffix(buf, CHANNEL_OPEN), partialSuffix(buf, CHANNEL_CLOSE)));
                        if (!ended) {
                            c.append(buf, 0, buf.length() - keep);
                        }
                        held = buf.substring(buf.length() - keep);
                        buf = "";
                    } else {
                        if (!ended) {
                            c.append(buf, 0, at);
                        }
                        if (at == call) {
                            c.append(CALL_OPEN);
                            buf = buf.substring(at + CALL_OPEN.length());
                            state = ended ? State.CALL_AFTER_END : State.CALL;
                        } else if (at == open) {
                            buf = buf.substring(at + CHANNEL_OPEN.length());
                            state = State.CHANNEL;
                        } else {
                            buf = buf.substring(at + CHANNEL_CLOSE.length());
                            state = State.ENDED;
                        }
                    }
                }
                case CHANNEL -> {
                    if (buf.startsWith(THOUGHT)) {
                        buf = buf.substring(THOUGHT.length());
                        state = State.THOUGHT_START;
                    } else if (buf.startsWith(CHANNEL_OPEN)) {
                        buf = buf.substring(CHANNEL_OPEN.length()); // an empty channel before the thought
                    } else if (THOUGHT.startsWith(buf) || CHANNEL_OPEN.startsWith(buf)) {
                        held = buf;
                        buf = "";
                    } else {
                        state = State.CONTENT; // no thought: the marker is dropped, the text read as it stands
                    }
                }
                case THOUGHT_START -> {
                    buf = buf.stripLeading();
                    if (!buf.isEmpty()) {
                        state = State.REASONING;
                    }
                }
                case REASONING -> buf = readUntil(buf, CHANNEL_CLOSE, r, false, State.CONTENT);
                // CALL, CALL_AFTER_END: the call goes to the answer whole, its closing tag included
                default -> buf = readUntil(buf, CALL_CLOSE, c, true, state == State.CALL ? State.CONTENT : State.ENDED);
            }
        }
        reasoning.append(r);
        content.append(c);
        return r.isEmpty() && c.isEmpty() ? Delta.NONE : new Delta(r.toString(), c.toString());
    }

    /** The smallest of the non-negative positions, or -1 when all are negative. */
    private static int firstOf(int... positions) {
        int first = -1;
        for (int p : positions) {
            if (p >= 0 && (first < 0 || p < first)) {
                first = p;
            }
        }
        return first;
    }

    /**
     * Text up to {@code close}: what comes before it (and the tag itself when {@code keepClose}) goes to {@code into}
     * and the state becomes {@code after}; without it, all but what may be the start of {@code close} goes to
     * {@code into} and that start is held for the next piece. Returns the text left to read.
     */
    private String readUntil(String buf, String close, StringBuilder into, boolean keepClose, State after) {
        int at = buf.indexOf(close);
        if (at >= 0) {
            into.append(buf, 0, keepClose ? at + close.length() : at);
            state = after;
            return buf.substring(at + close.length());
        }
        int keep = partialSuffix(buf, close);
        into.append(buf, 0, buf.length() - keep);
        held = buf.substring(buf.length() - keep);
        return "";
    }

    /** The length of the longest end of {@code s} that begins {@code tag} (but is not all of it). */
    private static int partialSuffix(String s, String tag) {
        for (int n = Math.min(s.length(), tag.length() - 1); n > 0; n--) {
            if (s.endsWith(tag.substring(0, n))) {
                return n;
            }
        }
        return 0;
    }

    private Delta harmony(int id, String text) {
        if (text.isEmpty()) {
            String marker = controlText.apply(id);
            switch (marker == null ? "" : marker) {
                case "<|start|>" -> {
                    endCall();
                    header.setLength(0);
                    sawMarker = true;
                    state = State.HEADER;
                }
                case "<|channel|>", "<|constrain|>" -> {
                    sawMarker = true;
                    if (state == State.HEADER) {
                        header.append(' ').append(marker).append(' ');
                    }
                }
                case "<|message|>" -> {
                    sawMarker = true;
                    String h = header.toString();
                    analysis = channel(h).equals("analysis");
                    callName = recipient(h);
                    header.setLength(0);
                    state = State.BODY;
                }
                case "<|end|>", "<|call|>" -> {
                    endCall();
                    state = State.HEADER;
                }
                default -> { }
            }
            return Delta.NONE;
        }
        if (state == State.HEADER) {
            if (sawMarker) {
                header.append(text);
                return Delta.NONE;
            }
            state = State.CONTENT; // plain text where a header was due: the model is not writing harmony
        }
        if (state == State.BODY && callName != null) {
            callArguments.append(text);
            return Delta.NONE;
        }
        return state == State.BODY && analysis ? reasoning(text) : content(text);
    }

    /** The function a harmony header sends its message to ({@code to=functions.NAME}), or null. */
    private static String recipient(String header) {
        int at = header.indexOf("to=functions.");
        if (at < 0) {
            return null;
        }
        int from = at + "to=functions.".length();
        int end = from;
        while (end < header.length() && !Character.isWhitespace(header.charAt(end)) && header.charAt(end) != '<') {
            end++;
        }
        return end > from ? header.substring(from, end) : null;
    }

    /** Ends the message being read, keeping it as a call when it was one. */
    private void endCall() {
        if (callName != null) {
            calls.add(new ToolCall(ToolCallFormat.openAiId(), callName, callArguments.toString().strip()));
            callName = null;
            callArguments.setLength(0);
        }
    }

    /** The channel a harmony header names: the word after {@code <|channel|>}. */
    private static String channel(String header) {
        int at = header.indexOf("<|channel|>");
        if (at < 0) {
            return "";
        }
        String rest = header.substring(at + "<|channel|>".length()).strip();
        int end = 0;
        while (end < rest.length() && !Character.isWhitespace(rest.charAt(end)) && rest.charAt(end) != '<') {
            end++;
        }
        return rest.substring(0, end);
    }

    private Delta reasoning(String text) {
        reasoning.append(text);
        return new Delta(text, "");
    }

    private Delta content(String text) {
        content.append(text);
        return new Delta("", text);
    }
}
