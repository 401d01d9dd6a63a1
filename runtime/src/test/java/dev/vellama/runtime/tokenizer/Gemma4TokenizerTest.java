package dev.vellama.runtime.tokenizer;

import static dev.vellama.runtime.tokenizer.Gemma4Vocab.BOS;
import static dev.vellama.runtime.tokenizer.Gemma4Vocab.CHANNEL;
import static dev.vellama.runtime.tokenizer.Gemma4Vocab.CLOSING_S;
import static dev.vellama.runtime.tokenizer.Gemma4Vocab.EOS;
import static dev.vellama.runtime.tokenizer.Gemma4Vocab.TOOL_RESPONSE;
import static dev.vellama.runtime.tokenizer.Gemma4Vocab.TURN_END;
import static dev.vellama.runtime.tokenizer.Gemma4Vocab.TURN_START;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufValue;

/**
 * The {@code gemma4} tokenizer (BPE on SentencePiece-style text) against llama.cpp, on the vocabulary of
 * {@link Gemma4Vocab}.
 *
 * <p>The vocabulary was written with {@code Gemma4Vocab.main} to {@code gemma4-synthetic.gguf} (so with
 * {@code add_bos_token = false}), each text below to a file as UTF-8, and the ids are the output of llama.cpp
 * (commit e21cdc11a) for it:
 * <pre>llama-tokenize -m gemma4-synthetic.gguf --ids --log-disable --no-escape -f FILE</pre>
 * which adds BOS as the vocabulary says and parses special tokens. The expected decoded texts are those of
 * {@code llama_detokenize(ids, remove_special=false, unparse_special=false)} on the same file.
 */
class Gemma4TokenizerTest {

    private record Vector(String text, int[] ids) {}

    private static Vector v(String text, int... ids) {
        return new Vector(text, ids);
    }

    private static final List<Vector> VECTORS = List.of(
            v("hello world", 2, 295, 301),
            v("hello  world", 2, 295, 290, 300),
            v("hello    world", 2, 295, 291, 300),
            v(" hello", 2, 296),
            v("  hello", 2, 290, 295),
            v("hello ", 2, 295, 265),
            v("hello, world.", 2, 295, 308, 300, 286),
            v("the world", 2, 273, 292, 301),
            v(" the caf\u00E9", 2, 303, 307),
            v("hello\nworld", 2, 295, 287, 300),
            v("hello\n\nworld", 2, 295, 288, 300),
            v("\n\n\n", 2, 288, 287),
            v("\n\n\n\n", 2, 289),
            v("\n\n\n\n\n", 2, 288, 288, 287),
            v("hello \n world", 2, 295, 265, 287, 301),
            v("\n hello\n", 2, 287, 296, 287),
            v("caf\u00E9 na\u00EFve", 2, 306, 265, 119, 275, 204, 184, 127, 267),
            v("\u4F60\u597D", 2, 309, 238, 174, 198),
            v("\uD83E\uDD99\uD83D\uDE42", 2, 310, 249, 168, 162, 139),
            v("xy", 2, 129, 130),
            v("\thello", 2, 18, 295),
            v("<|turn>user\nhello<turn|>\n", 2, 4, 126, 280, 267, 271, 287, 295, 5, 287),
            v("<bos>hello<eos>", 2, 2, 295, 1),
            v("</s>", 2, 281, 283, 280, 282),
            v("hello<|channel>world", 2, 295, 8, 300),
            v("<|turn>hello", 2, 4, 295),
            v("", 2),
            v("\u2581hello", 2, 296),
            v("a\r\nb", 2, 275, 22, 287, 107),
            v("hello  \n\n  world", 2, 295, 290, 288, 290, 300),
            v("hello . world ,", 2, 295, 265, 286, 301, 265, 285),
            v("don 't", 2, 272, 269, 119, 265, 48, 273),
            v("\n\n\n\n\n\n\n\n", 2, 288, 288, 288, 288));

    /** Texts whose decoding is not the text itself, by llama.cpp's decoder. */
    private static final Map<String, String> DECODED_OTHERWISE = Map.of(
            "<|turn>user\nhello<turn|>\n", "user\nhello\n",    // control tokens give no text
            "<bos>hello<eos>", "hello",
            "<|turn>hello", "hello",
            "\u2581hello", " hello",                              // U+2581 in the input is a space
            "hello . world ,", "hello. world,");                  // clean_spaces, as for other BPE vocabularies

    private final Tokenizer tokenizer = Gemma4Vocab.tokenizer(false);

    @Test
    void everyVectorMatchesLlamaCpp() {
        StringBuilder failures = new StringBuilder();
        for (Vector v : VECTORS) {
            int[] got = tokenizer.encode(v.text(), true, true);
            if (!Arrays.equals(v.ids(), got)) {
                failures.append(String.format("%n%s%n  want %s%n  got  %s", LlamaCppVectorsTest.quote(v.text()),
                        Arrays.toString(v.ids()), Arrays.toString(got)));
            }
        }
        assertEquals("", failures.toString(), "gemma4 mismatches");
    }

    /** {@code --no-bos} gives each vector's ids without the leading BOS, and so does addSpecial = false. */
    @Test
    void withoutSpecialsThereIsNoBos() {
        for (Vector v : VECTORS) {
            assertArrayEquals(Arrays.copyOfRange(v.ids(), 1, v.ids().length), tokenizer.encode(v.text(), false, true),
                    LlamaCppVectorsTest.quote(v.text()));
        }
    }

    /** {@code --no-parse-special}: control tokens are spelled out, the user-defined one is still matched. */
    @Test
    void controlTokensAreTextWithoutParseSpecial() {
        assertArrayEquals(new int[] {2, 281, 133, 273, 126, 271, 119, 282, 126, 280, 267, 271, 287, 295, 281, 273, 126,
                271, 119, 133, 282, 287}, tokenizer.encode("<|turn>user\nhello<turn|>\n", true, false));
        assertArrayEquals(new int[] {2, 281, 107, 269, 280, 282, 295, 281, 267, 269, 280, 282},
                tokenizer.encode("<bos>hello<eos>", true, false));
        assertArrayEquals(new int[] {2, 281, 133, 273, 126, 271, 119, 282, 295}, tokenizer.encode("<|turn>hello", true, false));
        assertArrayEquals(new int[] {2, 295, CHANNEL, 300}, tokenizer.encode("hello<|channel>world", true, false));
    }

    @Test
    void bosIsAddedWhateverTheFileSays() {
        for (Boolean addBos : new Boolean[] {false, true, null}) {
            Tokenizer t = Gemma4Vocab.tokenizer(addBos);
            assertTrue(t.addsBos(), "add_bos_token = " + addBos);
            assertArrayEquals(new int[] {BOS, 295, 301}, t.encode("hello world", true, true), "add_bos_token = " + addBos);
        }
    }

    /** {@code </s>} is no end of generation next to {@code <|tool_response>}; it even becomes a normal token. */
    @Test
    void endOfGenerationTokensAreGemma4s() {
        assertEquals(BOS, tokenizer.bos());
        assertEquals(EOS, tokenizer.eos());
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            boolean eog = id == EOS || id == TURN_END || id == TOOL_RESPONSE;
            assertEquals(eog, tokenizer.isEndOfGeneration(id), tokenizer.tokenText(id));
        }
        assertFalse(tokenizer.isEndOfGeneration(TURN_START));
        assertEquals("</s>", new String(tokenizer.tokenBytes(CLOSING_S), StandardCharsets.UTF_8));
    }

    /**
     * Gemma 4's chat markers as llama.cpp's converter types them: the ones a reply is read by are one token each and
     * show in the decoded text; of them only {@code <|tool_response>}, which the model writes after its calls, ends
     * generation (llama.cpp makes it a control token as well, so it shows no text), beside {@code <turn|>} and
     * {@code <eos>}.
     */
    @Test
    void chatMarkersShowInTheTextAndOnlyTheTurnEndsStop() {
        Tokenizer t = Gemma4Vocab.chatTokenizer();
        String reply = "<|channel>thought\nhello<channel|>hello<|tool_call>call:hello{hello:<|\"|>world<|\"|>}<tool_call|>";
        assertEquals(reply, t.decode(t.encode(reply, false, true)));
        List<String> markers = new java.util.ArrayList<>(Gemma4Vocab.CHAT_MARKERS);
        markers.add("<|channel>");
        for (String marker : markers) {
            int[] ids = t.encode(marker, false, false);
            assertEquals(1, ids.length, marker);
            assertEquals(marker, t.tokenText(ids[0]));
            assertEquals(marker, new String(t.tokenBytes(ids[0]), StandardCharsets.UTF_8));
            assertFalse(t.isEndOfGeneration(ids[0]), marker);
        }
        for (int id : new int[] {EOS, TURN_END, TOOL_RESPONSE}) {
            assertTrue(t.isEndOfGeneration(id), t.tokenText(id));
            assertEquals(0, t.tokenBytes(id).length, t.tokenText(id));
        }
        assertFalse(t.isEndOfGeneration(CLOSING_S));
        assertFalse(t.isEndOfGeneration(TURN_START));
    }

    /** decode(encode(text)) is the text, except where llama.cpp's decoder gives something else too. */
    @Test
    void decodingMatchesLlamaCpp() {
        for (Vector v : VECTORS) {
            String want = DECODED_OTHERWISE.getOrDefault(v.text(), v.text());
            assertEquals(want, tokenizer.decode(v.ids()), LlamaCppVectorsTest.quote(v.text()));
            assertEquals(want, tokenizer.decode(tokenizer.encode(v.text(), true, true)), LlamaCppVectorsTest.quote(v.text()));
        }
    }

    /** llama.cpp's {@code token_to_piece(special=false)}: U+2581 is a space, byte tokens their byte. */
    @Test
    void tokenBytesAreLlamaCppPieces() {
        for (int id = 0; id < 7; id++) {
            assertEquals(0, tokenizer.tokenBytes(id).length, tokenizer.tokenText(id));
        }
        assertEquals("<|channel>", new String(tokenizer.tokenBytes(CHANNEL), StandardCharsets.UTF_8));
        for (int b = 0; b < 256; b++) {
            assertArrayEquals(new byte[] {(byte) b}, tokenizer.tokenBytes(Gemma4Vocab.byteToken(b)));
        }
        assertEquals(" hello", new String(tokenizer.tokenBytes(Gemma4Vocab.word("\u2581hello")), StandardCharsets.UTF_8));
        assertEquals("    ", new String(tokenizer.tokenBytes(Gemma4Vocab.word("\u2581\u2581\u2581\u2581")),
                StandardCharsets.UTF_8));
        assertEquals(", ", new String(tokenizer.tokenBytes(Gemma4Vocab.word(",\u2581")), StandardCharsets.UTF_8));
        assertEquals("\n\n", new String(tokenizer.tokenBytes(Gemma4Vocab.word("\n\n")), StandardCharsets.UTF_8));
    }

    @Test
    void streamingHoldsBackAnEmojiSpelledInBytes() {
        int[] ids = tokenizer.encode("\uD83E\uDD99\uD83D\uDE42", false, false); // a token, then four byte tokens
        assertArrayEquals(new int[] {310, 249, 168, 162, 139}, ids);
        StreamingDecoder d = tokenizer.streamingDecoder();
        assertEquals("\uD83E\uDD99", d.push(ids[0]));
        assertEquals("", d.push(ids[1]));
        assertEquals("", d.push(ids[2]));
        assertEquals("", d.push(ids[3]));
        assertTrue(d.hasPending());
        assertEquals("\uD83D\uDE42", d.push(ids[4]));
        assertEquals("", d.flush());
    }

    @Test
    void streamedTextIsTheConcatenatedPieces() {
        for (Vector v : VECTORS) {
            StreamingDecoder d = tokenizer.streamingDecoder();
            StringBuilder streamed = new StringBuilder();
            StringBuilder pieces = new StringBuilder();
            for (int id : v.ids()) {
                streamed.append(d.push(id));
                pieces.append(new String(tokenizer.tokenBytes(id), StandardCharsets.ISO_8859_1));
            }
            streamed.append(d.flush());
            String whole = new String(pieces.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            assertEquals(whole, streamed.toString(), LlamaCppVectorsTest.quote(v.text()));
        }
    }

    /**
     * Model {@code gemma4} ignores {@code tokenizer.ggml.pre}; model {@code gpt2} with pre-tokenizer {@code gemma4}
     * tokenizes the same (llama.cpp gives these vectors the same ids for such a copy of the file).
     */
    @Test
    void preTokenizerGemma4IsWhatDecides() {
        Map<String, GgufValue> otherPre = Gemma4Vocab.metadata(false);
        otherPre.put("tokenizer.ggml.pre", GgufValue.string("llama-bpe"));
        Map<String, GgufValue> gpt2 = Gemma4Vocab.metadata(false);
        gpt2.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        gpt2.put("tokenizer.ggml.pre", GgufValue.string("gemma4"));
        for (Map<String, GgufValue> md : List.of(otherPre, gpt2)) {
            Tokenizer t = Tokenizer.fromGguf(new GgufMetadata(md));
            for (Vector v : VECTORS) {
                assertArrayEquals(v.ids(), t.encode(v.text(), true, true), t + " " + LlamaCppVectorsTest.quote(v.text()));
                assertEquals(tokenizer.decode(v.ids()), t.decode(v.ids()));
            }
        }
    }

    @Test
    void describesItself() {
        assertEquals("Tokenizer[gemma4/gemma4, " + tokenizer.vocabSize() + " tokens]", tokenizer.toString());
    }

    /** llama.cpp would fail on the first tokenization: BOS is always added, and there is no default id for it. */
    @Test
    void bosIdIsRequired() {
        Map<String, GgufValue> md = Gemma4Vocab.metadata(false);
        md.remove("tokenizer.ggml.bos_token_id");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(new GgufMetadata(md)));
        assertTrue(e.getMessage().contains("tokenizer.ggml.bos_token_id"), e.getMessage());
    }

    @Test
    void mergesAreRequired() {
        Map<String, GgufValue> md = Gemma4Vocab.metadata(true);
        md.remove("tokenizer.ggml.merges");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(new GgufMetadata(md)));
        assertTrue(e.getMessage().contains("tokenizer.ggml.merges"), e.getMessage());
    }
}
