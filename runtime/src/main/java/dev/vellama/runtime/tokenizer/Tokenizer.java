package dev.vellama.runtime.tokenizer;

import dev.vellama.gguf.GgufMetadata;

/**
 * Text to token ids and back, with llama.cpp's results for the vocabulary a GGUF file carries. Implementations
 * are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /**
     * The tokenizer that {@code tokenizer.ggml.model} names: {@code llama} (SentencePiece), {@code gpt2} (byte-level
     * BPE, with the pre-tokenizer {@code tokenizer.ggml.pre} names) or {@code bert} (WordPiece).
     *
     * @throws TokenizerException for an unknown or unsupported model or pre-tokenizer, or a broken vocabulary
     */
    static Tokenizer fromGguf(GgufMetadata metadata) {
        return new GgufTokenizer(Vocabulary.load(metadata));
    }

    /**
     * Tokenizes {@code text}.
     *
     * @param addSpecial   add BOS and EOS as the vocabulary's {@code add_bos_token}/{@code add_eos_token} say (with
     *                     llama.cpp's defaults per tokenizer model when the keys are absent); WordPiece always
     *                     frames the text with its CLS and SEP tokens
     * @param parseSpecial recognise control tokens written in the text (such as {@code <|im_start|>}) as single
     *                     tokens; user-defined tokens are recognised either way
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * The text of a token sequence, as llama.cpp's {@code llama_detokenize} gives it with
     * {@code remove_special=false, unparse_special=false}: control and unknown tokens contribute nothing, the space
     * SentencePiece put in front of the first token is dropped, and vocabularies that ask for it get
     * {@code clean_up_tokenization_spaces} (no space before {@code ?!.,} and some contractions). Bytes that are not
     * valid UTF-8 become U+FFFD.
     */
    String decode(int[] ids);

    /**
     * The bytes a token contributes to output: a byte-fallback token gives its one byte, SentencePiece's U+2581
     * becomes a space, byte-level BPE text is mapped back to its bytes; control and unknown tokens give nothing.
     */
    byte[] tokenBytes(int id);

    /** The token's string as stored in the vocabulary. */
    String tokenText(int id);

    /** A decoder for tokens arriving one at a time that never splits a UTF-8 sequence. */
    StreamingDecoder streamingDecoder();

    int vocabSize();

    /** Beginning of sequence, or -1 when the vocabulary has none. */
    int bos();

    /** End of sequence, or -1. */
    int eos();

    /** End of turn, or -1. */
    int eot();

    /** End of message (tool call follows), or -1. */
    int eom();

    /** Whether generation stops at this token: EOS, EOT, EOM and llama.cpp's other end-of-generation tokens. */
    boolean isEndOfGeneration(int id);

    /** Whether {@code encode(text, true, ...)} starts with BOS. */
    boolean addsBos();
}
