package dev.vellama.runtime.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufValueType;
import dev.vellama.gguf.GgufWriter;

/**
 * A small vocabulary shaped like Gemma 4's ({@code tokenizer.ggml.model = "gemma4"}): control tokens, a
 * user-defined one, the 256 byte tokens, then words in SentencePiece spelling with merges. The expected ids in
 * {@link Gemma4TokenizerTest} come from llama.cpp reading this vocabulary; {@link #main} writes it as a GGUF file
 * for that.
 */
final class Gemma4Vocab {
    static final int PAD = 0;
    static final int EOS = 1;
    static final int BOS = 2;
    static final int UNK = 3;
    static final int TURN_START = 4;
    static final int TURN_END = 5;
    static final int TOOL_RESPONSE = 6;
    static final int CLOSING_S = 7;
    static final int CHANNEL = 8;
    /** {@code <0x00>}; byte b is {@code BYTE_0 + b}. */
    static final int BYTE_0 = 9;
    static final int WORDS = BYTE_0 + 256;

    private static final List<String> SPECIALS = List.of("<pad>", "<eos>", "<bos>", "<unk>", "<|turn>", "<turn|>",
            "<|tool_response>", "</s>", "<|channel>");
    private static final List<Integer> SPECIAL_TYPES = List.of(3, 3, 3, 2, 3, 3, 3, 3, 4);

    /** Normal tokens, from {@link #WORDS} on. */
    static final List<String> WORD_TOKENS = List.of(
            "\u2581", "h", "e", "l", "o", "w", "r", "d", "t", "c", "a", "f", "\u00E9", "x", "y", "s", "<", ">", "/",
            "!", ",", ".", "\n", "\n\n", "\n\n\n\n", "\u2581\u2581", "\u2581\u2581\u2581\u2581", "he", "ll", "llo",
            "hello", "\u2581hello", "wo", "rl", "rld", "world", "\u2581world", "\u2581t", "\u2581the", "ca", "caf",
            "caf\u00E9", "\u2581caf\u00E9", ",\u2581", "\u4F60", "\uD83E\uDD99");

    /** In rank order; {@code "x y"} makes a text that is not a token. */
    static final List<String> MERGES = List.of(
            ", \u2581", "\u2581 \u2581", "h e", "l l", "ll o", "he llo", "\u2581 hello", "w o", "r l", "rl d",
            "wo rld", "\u2581 world", "\u2581 t", "\u2581t he", "c a", "ca f", "caf \u00E9", "\u2581 caf\u00E9",
            "\u2581\u2581 \u2581\u2581", "\n \n", "x y");

    /**
     * The chat markers that llama.cpp's converter makes user-defined in Gemma 4 files (so that the decoded text shows
     * them), besides {@code <|channel>} and {@code <|tool_response>}; in {@link #chatTokenizer} they follow the words.
     */
    static final List<String> CHAT_MARKERS = List.of("<channel|>", "<|tool_call>", "<tool_call|>", "<tool_response|>",
            "<|\"|>");

    private Gemma4Vocab() {}

    /** The id of a normal token. */
    static int word(String text) {
        int i = WORD_TOKENS.indexOf(text);
        if (i < 0) {
            throw new IllegalArgumentException("not a word token: " + text);
        }
        return WORDS + i;
    }

    /** The id of the byte token for {@code b}. */
    static int byteToken(int b) {
        return BYTE_0 + b;
    }

    /**
     * The vocabulary's metadata.
     *
     * @param addBos the {@code tokenizer.ggml.add_bos_token} value, or null to leave the key out
     */
    static Map<String, GgufValue> metadata(Boolean addBos) {
        List<String> tokens = new ArrayList<>(SPECIALS);
        List<Integer> types = new ArrayList<>(SPECIAL_TYPES);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6);
        }
        tokens.addAll(WORD_TOKENS);
        for (int i = 0; i < WORD_TOKENS.size(); i++) {
            types.add(1);
        }
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("general.architecture", GgufValue.string("gemma4"));
        md.put("tokenizer.ggml.model", GgufValue.string("gemma4"));
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens.toArray(new String[0])));
        md.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, new float[tokens.size()]));
        md.put("tokenizer.ggml.token_type",
                GgufValue.array(GgufValueType.INT32, types.stream().mapToInt(Integer::intValue).toArray()));
        md.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, MERGES.toArray(new String[0])));
        md.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(BOS));
        md.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(EOS));
        md.put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(UNK));
        md.put("tokenizer.ggml.padding_token_id", GgufValue.uint32(PAD));
        md.put("tokenizer.ggml.add_space_prefix", GgufValue.bool(false));
        if (addBos != null) {
            md.put("tokenizer.ggml.add_bos_token", GgufValue.bool(addBos));
        }
        return md;
    }

    static Tokenizer tokenizer(Boolean addBos) {
        return Tokenizer.fromGguf(new GgufMetadata(metadata(addBos)));
    }

    /**
     * The vocabulary with Gemma 4's chat markers typed as llama.cpp's converter types them: {@code <|tool_response>}
     * user-defined instead of control, and {@link #CHAT_MARKERS} added after the words, user-defined.
     */
    static Tokenizer chatTokenizer() {
        Map<String, GgufValue> md = metadata(true);
        List<String> tokens = new ArrayList<>(List.of((String[]) md.get("tokenizer.ggml.tokens").value()));
        List<Integer> types = new ArrayList<>();
        for (int type : (int[]) md.get("tokenizer.ggml.token_type").value()) {
            types.add(type);
        }
        types.set(TOOL_RESPONSE, 4);
        for (String marker : CHAT_MARKERS) {
            tokens.add(marker);
            types.add(4);
        }
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens.toArray(new String[0])));
        md.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, new float[tokens.size()]));
        md.put("tokenizer.ggml.token_type",
                GgufValue.array(GgufValueType.INT32, types.stream().mapToInt(Integer::intValue).toArray()));
        return Tokenizer.fromGguf(new GgufMetadata(md));
    }

    /** Writes the vocabulary, with {@code add_bos_token = false}, as a vocabulary-only GGUF file at {@code args[0]}. */
    public static void main(String[] args) throws IOException {
        GgufWriter writer = new GgufWriter();
        metadata(false).forEach(writer::put);
        writer.write(Path.of(args[0]));
    }
}
