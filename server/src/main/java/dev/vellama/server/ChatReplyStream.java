package dev.vellama.server;

import java.util.List;

import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.chat.ChatReply;
import dev.vellama.runtime.chat.ReasoningSplitter;
import dev.vellama.runtime.chat.ToolCall;
import dev.vellama.runtime.chat.ToolCallFormat;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.sse.SseSink;

/**
 * A streamed chat reply as the routes that keep reasoning apart hand it out: the engine's tokens split into reasoning
 * and words, tool-call text held back from the words (read whole at the end: harmony's calls from its tokens, the
 * others' from the text), and at the end the calls the reply made.
 */
final class ChatReplyStream {
    /** What becomes of the reply; each call may throw {@link ClientGone}. */
    interface Sink {
        /** Reasoning and words that may go to the client now; one of them is not empty. */
        void piece(String reasoning, String words);

        /** The reply ended; every piece has been given. */
        void end(GenerationResult result, List<ToolCall> calls);

        /** The engine failed on the request. */
        void failed(RuntimeException error);
    }

    /** A stream's writing, which may find the client gone. */
    interface Body {
        void run() throws InterruptedException;
    }

    private int tokens;

    /**
     * Runs {@code body}, the writing of one streamed answer (its opening events, then {@link #run}): a client that has
     * gone cancels the request, so its slot is free at the next step, and is logged; the stream is closed either way.
     */
    void guarded(ServerRequest req, SseSink out, BatchEngine.Request running, int promptTokens, Body body)
            throws InterruptedException {
        try {
            body.run();
        } catch (ClientGone gone) {
            running.cancel();
            RequestLog.of(req).tokens(promptTokens + tokens).disconnected();
        } finally {
            CompletionEndpoints.close(out);
        }
    }


    /**
     * Takes the request's events until its end.
     *
     * @param format   the tool-call format the reply is read in; null when none
     * @param mustCall whether the reply must call a tool (its text then never reaches the client)
     * @param silence  longest the engine may stay silent, in seconds
     */
    void run(TokenChannel channel, ToolCallFormat format, boolean mustCall, ReasoningSplitter splitter, Sink sink,
            long silence) throws InterruptedException {
        boolean harmonyCalls = format == ToolCallFormat.HARMONY;
        ToolReplyStream calls = format != null && !harmonyCalls ? new ToolReplyStream(format, mustCall) : null;
        while (true) {
            TokenChannel.Event e = channel.take(silence);
            if (e.error() != null) {
                sink.failed(e.error());
                return;
            }
            if (e.token() != null) {
                tokens++;
                give(splitter.accept(e.token().id(), e.token().text()), calls, sink);
                continue;
            }
            give(splitter.finish(), calls, sink);
            List<ToolCall> made = List.of();
            if (calls != null) {
                ChatReply reply = calls.reply();
                String rest = calls.unsentContent(reply);
                if (!rest.isEmpty()) {
                    sink.piece("", rest);
                }
                made = reply.toolCalls();
            } else if (harmonyCalls) {
                made = splitter.toolCalls();
            }
            sink.end(e.result(), made);
            return;
        }
    }

    private static void give(ReasoningSplitter.Delta split, ToolReplyStream calls, Sink sink) {
        String words = calls != null ? calls.accept(split.content()) : split.content();
        if (!split.reasoning().isEmpty() || !words.isEmpty()) {
            sink.piece(split.reasoning(), words);
        }
    }
}
