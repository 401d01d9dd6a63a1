package dev.vellama.server;

import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.ToolCallFormat;

/**
 * A streamed reply that may hold tool calls: words go out as they come until the text may be turning into a call
 * (Hermes' and GLM's {@code <tool_call>}, Gemma 4's {@code <|tool_call>}, or a reply that opens as a Llama 3 or
 * Mistral call does), and from there the text is held back and read as calls at the end. A reply that must call
 * tools, or a generic JSON reply, is all held back.
 */
final class ToolReplyStream {
    private final ToolCallFormat format;
    /** The text that opens a call anywhere in the reply, or null where a call can only open the reply. */
    private final String open;
    private final boolean holdAll;
    private final StringBuilder text = new StringBuilder();
    private int sent;
    private boolean holding;
    private boolean free; // the reply has shown it is words: no call can start it any more

    ToolReplyStream(ToolCallFormat format, boolean mustCall) {
        this.format = format;
        this.holdAll = mustCall || format == ToolCallFormat.GENERIC;
        this.open = format.callOpening();
    }

    /** Takes the next piece of the reply; returns the words that may go to the client now (perhaps none). */
    String accept(String piece) {
        text.append(piece);
        if (holdAll || holding) {
            return "";
        }
        if (open != null) {
            int at = text.indexOf(open, sent);
            int safe;
            if (at >= 0) {
                holding = true;
                safe = at;
            } else {
                safe = text.length() - partialOpen();
            }
            String out = text.substring(sent, Math.max(sent, safe));
            sent = Math.max(sent, safe);
            return out;
        }
        if (!free) {
            String start = text.toString().stripLeading();
            if (start.isEmpty()) {
                return "";
            }
            char opener = format == ToolCallFormat.MISTRAL ? '[' : '{';
            if (start.charAt(0) == opener || start.startsWith("<|python_tag|>")) {
                holding = true;
                return "";
            }
            if ("<|python_tag|>".startsWith(start)) {
                return ""; // perhaps the tag, perhaps words: wait for more
            }
            free = true;
        }
        String out = text.substring(sent);
        sent = text.length();
        return out;
    }

    /** How many characters at the end could be the start of the opening tag. */
    private int partialOpen() {
        for (int n = Math.min(open.length() - 1, text.length()); n > 0; n--) {
            if (text.substring(text.length() - n).equals(open.substring(0, n))) {
                return n;
            }
        }
        return 0;
    }

    /** The whole reply read back. */
    ChatReply reply() {
        return format.parse(text.toString());
    }

    /** Words not yet sent that belong in the reply's content, once it has ended. */
    String unsentContent(ChatReply reply) {
        if (!reply.toolCalls().isEmpty()) {
            return "";
        }
        return format == ToolCallFormat.GENERIC ? reply.content() : text.substring(sent);
    }
}
