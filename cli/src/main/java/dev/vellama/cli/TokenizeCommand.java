package dev.vellama.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonGenerator;

import dev.vellama.gguf.GgufFile;
import dev.vellama.runtime.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vellama tokenize}: the token ids of a text, like llama.cpp's llama-tokenize. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Print the token ids (and pieces) of a text with a model's vocabulary; vocabulary-only GGUFs work.")
final class TokenizeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF file with the vocabulary.")
    Path model;

    @Option(names = "--no-bos", description = "Add no special tokens (BOS, and EOS where the model adds one).")
    boolean noBos;

    @Option(names = "--parse-special", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Turn special tokens written in the text (such as <|im_start|>) into their ids, as llama-tokenize"
                    + " does (default); --no-parse-special spells them out as text.")
    boolean parseSpecial;

    @Option(names = "--ids", description = "Print only the ids, as one list: [1, 15043, 3186].")
    boolean idsOnly;

    @Option(names = "--no-escape", description = "Take TEXT as written; by default \\n, \\t, \\xNN and the like are expanded, as llama-tokenize does.")
    boolean noEscape;

    @Option(names = "--json", description = "Print {\"ids\":[...],\"pieces\":[...]} instead of one line per token.")
    boolean json;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Input input;

    static final class Input {
        @Parameters(paramLabel = "TEXT", description = "The text to tokenize.")
        String text;

        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the text from a UTF-8 file instead.")
        Path file;
    }

    @Override
    public Integer call() throws IOException {
        if (input == null) {
            throw new IllegalArgumentException("give the text to tokenize, or --file FILE");
        }
        String text = input.file != null ? Files.readString(input.file, StandardCharsets.UTF_8)
                : noEscape ? input.text : Escapes.expand(input.text);
        Tokenizer tokenizer;
        try (GgufFile file = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(file.metadata());
        }
        int[] ids = tokenizer.encode(text, !noBos, parseSpecial);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            printJson(tokenizer, ids, out);
        } else if (idsOnly) {
            out.println(java.util.Arrays.toString(ids));
        } else {
            for (int id : ids) {
                out.printf("%6d -> '%s'%n", id, piece(tokenizer, id));
            }
        }
        out.flush();
        return 0;
    }

    private static void printJson(Tokenizer tokenizer, int[] ids, PrintWriter out) throws IOException {
        // the generator must not close the command's output stream
        try (JsonGenerator g = JsonOutput.open(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("ids");
            for (int id : ids) {
                g.writeNumber(id);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("pieces");
            for (int id : ids) {
                g.writeString(piece(tokenizer, id));
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        out.println();
    }

    /**
     * What a token stands for: its text as it appears in output; for a token that outputs nothing (BOS, control
     * tokens) its vocabulary string; bytes that are only part of a character are shown as {@code <0xNN>}.
     */
    static String piece(Tokenizer tokenizer, int id) {
        byte[] bytes = tokenizer.tokenBytes(id);
        if (bytes.length == 0) {
            return tokenizer.tokenText(id);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length * 2 + 16);
        StringBuilder text = new StringBuilder();
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            out.flip();
            text.append(out);
            out.clear();
            if (result.isError()) {
                for (int i = 0; i < result.length(); i++) {
                    text.append(String.format("<0x%02X>", in.get() & 0xFF));
                }
            } else if (result.isUnderflow()) {
                break;
            }
        }
        return text.toString();
    }
}
