package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Random texts (scripts, emoji, whitespace runs, digits, special-token spellings) tokenized as llama.cpp tokenizes
 * them, with specials neither added nor parsed and with both, and random id sequences decoded as llama.cpp
 * detokenizes them; the data and how it was made are in {@code tokenizer-differential/README.md}.
 */
class TokenizerDifferentialTest {
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "llama-spm, plain", "llama-spm, special", "gpt-2, plain", "gpt-2, special", "phi-3, plain", "phi-3, special",
            "deepseek-llm, plain", "deepseek-llm, special", "bert-bge, plain", "bert-bge, special",
            "llama-bpe, plain", "llama-bpe, special", "qwen2, plain", "qwen2, special",
            "tiny-qwen3, plain", "tiny-qwen3, special",
    })
    void randomTextsTokenizeAsLlamaCppDoes(String vocab, String mode) throws IOException {
        Tokenizer tokenizer = tokenizer(vocab);
        boolean special = mode.equals("special");
        List<String> texts = lines("inputs.hex");
        List<String> expected = lines(vocab + "." + mode + ".ids");
        assertEquals(texts.size(), expected.size());
        StringBuilder failures = new StringBuilder();
        int wrong = 0;
        for (int i = 0; i < texts.size(); i++) {
            String text = new String(HexFormat.of().parseHex(texts.get(i)), StandardCharsets.UTF_8);
            int[] want = ids(expected.get(i));
            int[] got = tokenizer.encode(text, special, special);
            if (!Arrays.equals(want, got) && wrong++ < 5) {
                failures.append(String.format("%n#%d %s%n  want %s%n  got  %s", i, LlamaCppVectorsTest.quote(text),
                        Arrays.toString(want), Arrays.toString(got)));
            }
        }
        assertEquals("", failures.toString(), vocab + " " + mode + ": " + wrong + " of " + texts.size() + " differ");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"llama-spm", "gpt-2", "phi-3", "deepseek-llm", "bert-bge", "llama-bpe", "qwen2", "tiny-qwen3"})
    void randomIdsDecodeAsLlamaCppDoes(String vocab) throws IOException {
        Tokenizer tokenizer = tokenizer(vocab);
        List<String> ids = lines(vocab + ".detok.ids");
        List<String> expected = lines(vocab + ".detok.hex");
        assertEquals(ids.size(), expected.size());
        StringBuilder failures = new StringBuilder();
        for (int i = 0; i < ids.size(); i++) {
            int[] sequence = ids(ids.get(i));
            // llama.cpp gives bytes; Vellama's text is those bytes read as UTF-8
            String want = new String(HexFormat.of().parseHex(expected.get(i)), StandardCharsets.UTF_8);
            String got = tokenizer.decode(sequence);
            if (!want.equals(got)) {
                failures.append(String.format("%n%s%n  want %s%n  got  %s", Arrays.toString(sequence),
                        LlamaCppVectorsTest.quote(want), LlamaCppVectorsTest.quote(got)));
            }
        }
        assertEquals("", failures.toString(), vocab);
    }

    /** The shared vocabulary file, or the model file for the {@code tiny-} names. */
    private static Tokenizer tokenizer(String vocab) {
        return vocab.startsWith("tiny-") ? VocabFiles.model(vocab + "-q8_0.gguf") : VocabFiles.vocab(vocab);
    }

    /** Space-separated ids; an empty line is none. */
    private static int[] ids(String line) {
        return line.isEmpty() ? new int[0] : Arrays.stream(line.split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    private static List<String> lines(String name) throws IOException {
        try (InputStream in = TokenizerDifferentialTest.class.getResourceAsStream("/tokenizer-differential/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }
}
