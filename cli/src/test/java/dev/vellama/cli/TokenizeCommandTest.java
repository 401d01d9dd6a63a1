package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import dev.vellama.testdata.TestData;

class TokenizeCommandTest {

    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    private static String spmVocab() {
        return TestData.resolve("tokenizer-tests/ggml-vocab-llama-spm.gguf").toString();
    }

    @Test
    void printsOneLinePerTokenWithItsPiece() {
        Result r = run("tokenize", "-m", spmVocab(), "Hello world");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("     1 -> '<s>'", " 15043 -> ' Hello'", "  3186 -> ' world'"), r.out().lines().toList());
    }

    @Test
    void noBosAndParseSpecial() {
        Result plain = run("tokenize", "-m", spmVocab(), "--no-bos", "--no-parse-special", "</s>");
        assertTrue(plain.out().lines().count() > 1, "</s> is spelled out with --no-parse-special");
        Result parsed = run("tokenize", "-m", spmVocab(), "--no-bos", "</s>"); // parsed by default, as llama-tokenize
        assertEquals(parsed.out(), run("tokenize", "-m", spmVocab(), "--no-bos", "--parse-special", "</s>").out());
        assertEquals("[2]", run("tokenize", "-m", spmVocab(), "--no-bos", "--ids", "</s>").out().strip());
        assertEquals(List.of("     2 -> '</s>'"), parsed.out().lines().toList());
    }

    @Test
    void jsonHasIdsAndPieces(@TempDir Path dir) throws IOException {
        Path text = dir.resolve("prompt.txt");
        Files.writeString(text, "Hi \uD83E\uDD99");
        Result r = run("tokenize", "-m", spmVocab(), "--json", "--file", text.toString());
        assertEquals(0, r.code(), r.err());
        List<Integer> ids = new ArrayList<>();
        List<String> pieces = new ArrayList<>();
        try (JsonParser p = new JsonFactory().createParser(r.out())) {
            String field = null;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.FIELD_NAME) {
                    field = p.currentName();
                } else if (t == JsonToken.VALUE_NUMBER_INT && "ids".equals(field)) {
                    ids.add(p.getIntValue());
                } else if (t == JsonToken.VALUE_STRING && "pieces".equals(field)) {
                    pieces.add(p.getText());
                }
            }
        }
        assertEquals(List.of(1, 6324, 29871, 243, 162, 169, 156), ids);
        assertEquals(List.of("<s>", " Hi", " ", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"), pieces);
    }

    @Test
    void piecesShowPartialCharactersAsBytes() {
        Result r = run("tokenize", "-m", TestData.resolve("tokenizer-tests/ggml-vocab-gpt-2.gguf").toString(),
                "--json", "\uD83E\uDD99");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().endsWith("}\n") || r.out().endsWith("}" + System.lineSeparator()), r.out());
        assertTrue(r.out().contains("\"<0xF0><0x9F>\""), r.out());
    }

    @Test
    void errorsAreOneLineAndExitCodeOne() {
        Result missing = run("tokenize", "-m", "/no/such/model.gguf", "x");
        assertEquals(1, missing.code());
        assertEquals(1, missing.err().lines().count(), missing.err());
        assertTrue(missing.err().contains("/no/such/model.gguf"), missing.err());

        Result noText = run("tokenize", "-m", spmVocab());
        assertEquals(1, noText.code());
        assertTrue(noText.err().contains("text"), noText.err());
    }
}
