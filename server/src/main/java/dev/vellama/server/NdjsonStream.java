package dev.vellama.server;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

/**
 * A streamed answer as newline-delimited JSON ({@code application/x-ndjson}), one object a line, each flushed as
 * it is written: how ollama's API streams. Writing to a client that has closed its connection throws
 * {@link ClientGone}.
 */
final class NdjsonStream implements AutoCloseable {
    private final OutputStream out;

    NdjsonStream(ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/x-ndjson");
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        this.out = res.outputStream();
    }

    /** Writes one line and sends it at once. */
    void write(JsonNode line) {
        try {
            out.write(Responses.text(line).getBytes(StandardCharsets.UTF_8));
            out.write('\n');
            out.flush();
        } catch (IOException | UncheckedIOException e) {
            throw new ClientGone(e);
        } catch (RuntimeException e) {
            // how a closed connection surfaces depends on when it closed; any failure to write means it is gone
            throw new ClientGone(e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException | RuntimeException alreadyGone) {
            // nothing is left to tell a client that has gone
        }
    }
}
