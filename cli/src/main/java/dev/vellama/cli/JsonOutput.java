package dev.vellama.cli;

import java.io.IOException;
import java.io.Writer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

/** The JSON the commands print: a generator that leaves the command's output open when it closes. */
final class JsonOutput {
    // Jackson closes the writer under a generator by default, and the newline after the document was then lost
    private static final JsonFactory FACTORY = JsonFactory.builder().disable(com.fasterxml.jackson.core.StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private JsonOutput() {}

    static JsonGenerator open(Writer out) throws IOException {
        return FACTORY.createGenerator(out);
    }
}
