/** {@code vellama serve}: an OpenAI-compatible HTTP server over the batch engine. */
module dev.vellama.server {
    requires transitive dev.vellama.runtime;
    requires io.helidon.webserver;
    requires io.helidon.webserver.sse;
    requires io.helidon.http;
    requires io.helidon.http.sse;
    requires com.fasterxml.jackson.databind;
    requires java.logging; // quiets Helidon's own startup lines

    exports dev.vellama.server;
}
