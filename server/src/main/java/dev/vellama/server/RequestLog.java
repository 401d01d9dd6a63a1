package dev.vellama.server;

import io.helidon.webserver.http.ServerRequest;

/** What one request's log line reports beyond method, path, status and time: tokens, and a client gone. */
final class RequestLog {
    private int tokens;
    private boolean disconnected;

    /** The request's record, registered by the server's filter. */
    static RequestLog of(ServerRequest req) {
        return req.context().get(RequestLog.class).orElseGet(RequestLog::new);
    }

    RequestLog tokens(int n) {
        tokens = n;
        return this;
    }

    void disconnected() {
        disconnected = true;
    }

    int tokens() {
        return tokens;
    }

    boolean wasDisconnected() {
        return disconnected;
    }
}
