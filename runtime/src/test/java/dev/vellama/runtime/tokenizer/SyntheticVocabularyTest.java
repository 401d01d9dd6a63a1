package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufValueType;

/** Small hand-made vocabularies that pin down the algorithms' rules. */
class SyntheticVocabularyTest {

    /** SentencePiece: scores decide the merges; missing pieces fall back to byte tokens. */
    @Test
    void sentencePieceMergesByScoreAndFallsBackToBytes() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(2, 3, 3));
        List<Float> scores = new ArrayList<>(List.of(0f, 0f, 0f));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6);
            scores.add(0f);
        }
        int base = tokens.size();
        // "▁a" and "ab" both exist; "ab" scores higher, so "▁ab" must come from "▁" + "ab"
        String[] words = {"\u2581", "a", "b", "\u2581a", "ab", "\u2581ab", "c"};
        float[] wordScores = {-1, -2, -2, -5, -3, -4, -2};
        for (int i = 0; i < words.length; i++) {
            tokens.add(words[i]);
            types.add(1);
            scores.add(wordScores[i]);
        }
        Map<String, GgufValue> md = vocab("llama", tokens, types);
        md.put("tokenizer.ggml.scores", floats(scores));
        Tokenizer t = Tokenizer.fromGguf(new GgufMetadata(md));

        int space = base, a = base + 1, b = base + 2, spaceAb = base + 5, c = base + 6;
        assertArrayEquals(new int[] {spaceAb}, t.encode("ab", false, false));
        assertArrayEquals(new int[] {1, spaceAb, space, c}, t.encode("ab c", true, false));
        // "é" is not a token: its two UTF-8 bytes are
        assertArrayEquals(new int[] {space, 3 + 0xC3, 3 + 0xA9}, t.encode("\u00E9", false, false));
        assertEquals("ab c\u00E9", t.decode(new int[] {spaceAb, space, c, 3 + 0xC3, 3 + 0xA9}));
        assertEquals("aba", t.decode(new int[] {a, b, a}));
        assertEquals(1, t.bos());
        assertEquals(2, t.eos());
        assertTrue(t.addsBos());
        assertTrue(t.isEndOfGeneration(2));
        assertFalse(t.isEndOfGeneration(1));
    }

    /** BPE: the lowest rank merges first, and equal ranks merge from the left. */
    @Test
    void bytePairMergesByRankLeftmostFirst() {
        List<String> tokens = List.of("a", "b", "c", "ab", "bc", "abc", "aa", "<|endoftext|>");
        List<Integer> types = List.of(1, 1, 1, 1, 1, 1, 1, 3);
        Map<String, GgufValue> md = vocab("gpt2", tokens, types);
        md.put("tokenizer.ggml.pre", GgufValue.string("gpt-2"));
        md.put("tokenizer.ggml.merges", strings(List.of("a a", "a b", "ab c", "b c")));
        md.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(7));
        Tokenizer t = Tokenizer.fromGguf(new GgufMetadata(md));

        assertArrayEquals(new int[] {5}, t.encode("abc", false, false));
        assertArrayEquals(new int[] {6, 0}, t.encode("aaa", false, false));
        // "a b" (rank 1) merges before "b c" (rank 3), however they are ordered in the text
        assertArrayEquals(new int[] {4, 3}, t.encode("bcab", false, false));
        assertArrayEquals(new int[] {3, 7}, t.encode("ab<|endoftext|>", false, true));
        assertFalse(t.addsBos());
        assertEquals(7, t.eos());
        assertTrue(t.isEndOfGeneration(7), "<|endoftext|> ends generation");
    }

    /** WordPiece: longest pieces first, whole words or the unknown token, CLS and SEP around. */
    @Test
    void wordPieceTakesLongestPiecesAndFramesWithClsSep() {
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < 104; i++) {
            tokens.add("[unused" + i + "]");
            types.add(1);
        }
        tokens.set(0, "[PAD]");
        tokens.set(100, "[UNK]");
        tokens.set(101, "[CLS]");
        tokens.set(102, "[SEP]");
        tokens.set(103, "[MASK]");
        for (int i : new int[] {0, 100, 101, 102, 103}) {
            types.set(i, 3);
        }
        tokens.addAll(List.of("\u2581play", "ing", "\u2581!", "\u2581hello", "in", "g")); // 104..109
        types.addAll(List.of(1, 1, 1, 1, 1, 1));
        Tokenizer t = Tokenizer.fromGguf(new GgufMetadata(vocab("bert", tokens, types)));

        assertArrayEquals(new int[] {101, 104, 105, 106, 107, 102}, t.encode("Playing! HELLO", true, false));
        assertArrayEquals(new int[] {100}, t.encode("xyz", false, false));
        assertArrayEquals(new int[] {107}, t.encode("h\u00E9llo", false, false), "accents are stripped");
    }

    @Test
    void unknownModelIsAnErrorThatNamesIt() {
        Map<String, GgufValue> md = vocab("sentencepiece-v9", List.of("a"), List.of(1));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(new GgufMetadata(md)));
        assertTrue(e.getMessage().contains("'sentencepiece-v9'"), e.getMessage());
    }

    @Test
    void unknownPreTokenizerIsAnErrorThatNamesIt() {
        Map<String, GgufValue> md = vocab("gpt2", List.of("a"), List.of(1));
        md.put("tokenizer.ggml.pre", GgufValue.string("mystery-bpe"));
        md.put("tokenizer.ggml.merges", strings(List.of()));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(new GgufMetadata(md)));
        assertTrue(e.getMessage().contains("'mystery-bpe'"), e.getMessage());
    }

    @Test
    void missingVocabularyIsAnError() {
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> Tokenizer.fromGguf(new GgufMetadata(Map.of())));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model"), e.getMessage());
    }

    @Test
    void metadataOfTheWrongTypeIsATokenizerError() {
        Map<String, GgufValue> md = vocab("llama", List.of("<unk>", "<s>", "</s>"), List.of(2, 3, 3));
        md.put("tokenizer.ggml.add_bos_token", GgufValue.string("yes"));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(new GgufMetadata(md)));
        assertTrue(e.getMessage().contains("tokenizer.ggml.add_bos_token"), e.getMessage());
    }

    @Test
    void duplicateTokenIsAnError() {
        Map<String, GgufValue> md = vocab("llama", List.of("<unk>", "<s>", "</s>", "x", "x"), List.of(2, 3, 3, 1, 1));
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(new GgufMetadata(md)));
        assertTrue(e.getMessage().contains("duplicate"), e.getMessage());
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRejected() {
        Tokenizer t = Tokenizer.fromGguf(new GgufMetadata(vocab("llama", List.of("<unk>", "<s>", "</s>"), List.of(2, 3, 3))));
        assertThrows(TokenizerException.class, () -> t.tokenBytes(3));
        assertThrows(TokenizerException.class, () -> t.decode(new int[] {-1}));
    }

    private static Map<String, GgufValue> vocab(String model, List<String> tokens, List<Integer> types) {
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GgufValue.string(model));
        md.put("tokenizer.ggml.tokens", strings(tokens));
        int[] t = types.stream().mapToInt(Integer::intValue).toArray();
        md.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, t));
        return md;
    }

    private static GgufValue strings(List<String> values) {
        return GgufValue.array(GgufValueType.STRING, values.toArray(new String[0]));
    }

    private static GgufValue floats(List<Float> values) {
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = values.get(i);
        }
        return GgufValue.array(GgufValueType.FLOAT32, f);
    }
}
