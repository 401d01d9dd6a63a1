package dev.vellama.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** Special tokens, flags and decoding on the shared real vocabularies. */
class RealVocabularyTest {

    static int idOf(Tokenizer t, String text) {
        for (int i = 0; i < t.vocabSize(); i++) {
            if (t.tokenText(i).equals(text)) {
                return i;
            }
        }
        throw new AssertionError("no token " + text);
    }

    @Test
    void llama3SpecialTokens() {
        Tokenizer t = VocabFiles.vocab("llama-bpe");
        assertEquals(128256, t.vocabSize());
        assertEquals(128000, t.bos());
        assertEquals(128009, t.eos());
        assertEquals(128009, t.eot());
        assertTrue(t.addsBos());
        assertTrue(t.isEndOfGeneration(128009));
        assertTrue(t.isEndOfGeneration(idOf(t, "<|end_of_text|>")));
        assertFalse(t.isEndOfGeneration(idOf(t, "<|start_header_id|>")));
        assertEquals("<|eot_id|>", t.tokenText(128009));

        String chat = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        int[] parsed = t.encode(chat, true, true);
        assertArrayEquals(new int[] {128000, 128006, 882, 128007, 271, 13347, 128009}, parsed);
        int[] literal = t.encode(chat, false, false);
        assertTrue(literal.length > 10, "control tokens are spelled out when specials are not parsed");
        assertEquals(chat, t.decode(literal));
        assertEquals("user\n\nHi", t.decode(parsed), "control tokens decode to nothing");
    }

    @Test
    void qwenEndsGenerationAtItsTurnAndFimTokens() {
        Tokenizer t = VocabFiles.vocab("qwen2");
        assertFalse(t.addsBos());
        assertEquals(151645, t.eos());
        assertEquals(idOf(t, "<|im_end|>"), t.eot());
        assertEquals(-1, t.eom());
        assertTrue(t.isEndOfGeneration(idOf(t, "<|endoftext|>")));
        assertTrue(t.isEndOfGeneration(idOf(t, "<|file_sep|>")));
        assertFalse(t.isEndOfGeneration(idOf(t, "<|im_start|>")));
        assertArrayEquals(new int[] {151644, 872, 198}, t.encode("<|im_start|>user\n", true, true));
    }

    @Test
    void userDefinedTokensAreMatchedEvenWithoutParsingSpecials() {
        Tokenizer t = VocabFiles.vocab("deepseek-llm");
        int slashedO = idOf(t, "\u00F8");
        assertArrayEquals(new int[] {slashedO}, t.encode("\u00F8", false, false));
        assertEquals("\u00F8", t.decode(new int[] {slashedO}));
    }

    @Test
    void sentencePieceAddsBosAndDropsThePrefixSpaceWhenDecoding() {
        Tokenizer t = VocabFiles.vocab("llama-spm");
        assertArrayEquals(new int[] {1, 15043, 3186}, t.encode("Hello world", true, false));
        assertEquals("Hello world", t.decode(new int[] {15043, 3186}));
        assertEquals(" Hello world", t.decode(new int[] {1, 15043, 3186}), "as llama_detokenize keeps it after BOS");
        assertArrayEquals(new byte[] {(byte) 0xF0}, t.tokenBytes(3 + 0xF0), "byte-fallback token");
        assertArrayEquals(" Hello".getBytes(StandardCharsets.UTF_8), t.tokenBytes(15043));
        assertEquals("\u2581Hello", t.tokenText(15043));
        assertEquals(0, t.tokenBytes(1).length, "BOS contributes no text");
        assertArrayEquals(new int[] {1, 1, 2}, t.encode("<s></s>", true, true));
    }

    @Test
    void phi3RightStripsAfterUserDefinedSpecials() {
        Tokenizer t = VocabFiles.vocab("phi-3");
        assertEquals(idOf(t, "<|end|>"), t.eot());
        assertTrue(t.isEndOfGeneration(idOf(t, "<|end|>")));
        int user = idOf(t, "<|user|>");
        int[] ids = t.encode("<|user|>\nHi", false, true);
        assertEquals(user, ids[0]);
        assertArrayEquals(t.encode("<|user|>Hi", false, true), ids, "the newline after <|user|> is stripped");
    }

    @Test
    void bertFramesWithClsAndSep() {
        Tokenizer t = VocabFiles.vocab("bert-bge");
        int[] ids = t.encode("Hello world", true, false);
        assertEquals(101, ids[0]);
        assertEquals(102, ids[ids.length - 1]);
        // word pieces carry their leading space and WordPiece vocabularies add no prefix space to drop
        assertEquals(" hello world", t.decode(new int[] {ids[1], ids[2]}));
    }

    /** llama-tokenize -m ggml-vocab-bert-bge.gguf -p "é café résumé" with é as e + U+0301 in the first and last. */
    @Test
    void aCombiningMarkWrittenOnItsOwnIsNotDropped() {
        Tokenizer t = VocabFiles.vocab("bert-bge");
        assertArrayEquals(new int[] {101, 100, 7668, 100, 102}, t.encode("e\u0301 caf\u00e9 re\u0301sume\u0301", true, false));
    }

    @Test
    void byteLevelBpeCleansSpacesWhenTheVocabularyAsksForIt() {
        Tokenizer gpt2 = VocabFiles.vocab("gpt-2");
        assertEquals("Hello, world! It's", gpt2.decode(gpt2.encode("Hello , world ! It 's", false, false)));
        Tokenizer qwen = VocabFiles.vocab("qwen2");
        assertEquals("Hello , world !", qwen.decode(qwen.encode("Hello , world !", false, false)));
    }

    @Test
    void unpairedSurrogatesAreReadAsReplacementCharacters() {
        Tokenizer t = VocabFiles.vocab("qwen2");
        assertArrayEquals(t.encode("a\uFFFDb\uFFFD", false, false), t.encode("a\uD800b\uDC00", false, false));
        assertEquals("\uD83E\uDD99", t.decode(t.encode("\uD83E\uDD99", false, false)), "pairs are kept");
    }
}
