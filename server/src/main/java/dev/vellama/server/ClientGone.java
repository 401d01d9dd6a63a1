package dev.vellama.server;

/** The client of a streamed answer closed its connection: writing to it failed. */
final class ClientGone extends RuntimeException {
    ClientGone(Throwable cause) {
        super("the client closed the connection", cause, false, false);
    }
}
