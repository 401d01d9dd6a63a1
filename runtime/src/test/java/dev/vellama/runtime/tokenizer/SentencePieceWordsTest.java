package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;

/** Merging word by word gives what merging the whole text in one queue (llama.cpp's way) gives. */
class SentencePieceWordsTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"llama-spm", "phi-3"})
    void wordByWordEqualsWholeText(String name) throws IOException {
        Vocabulary vocab;
        try (GgufFile file = GgufFile.open(TestData.resolve("tokenizer-tests/ggml-vocab-" + name + ".gguf"))) {
            vocab = Vocabulary.load(file.metadata());
        }
        SentencePieceEncoder encoder = new SentencePieceEncoder(vocab);
        assertTrue(encoder.mergesWordByWord(), name + " should allow merging word by word");
        List<String> texts = new ArrayList<>();
        texts.add(Files.readString(TestData.resolve("golden/perplexity.txt")));
        texts.addAll(GoldenPromptsTest.prompts());
        for (VocabFiles.Case c : VocabFiles.cases(name)) {
            texts.add(c.text());
        }
        for (String text : texts) {
            String escaped = (" " + text).replace(' ', '\u2581');
            IntList words = new IntList();
            encoder.encode(escaped, words);
            IntList whole = new IntList();
            encoder.encodeRun(escaped, whole);
            assertArrayEquals(whole.toArray(), words.toArray(), () -> LlamaCppVectorsTest.quote(text));
        }
    }
}
