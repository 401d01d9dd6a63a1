package dev.vellama.runtime.tokenizer;

import dev.vellama.gguf.GgufMetadata;

/**
 * Text to token ids and back, with llama.cpp's results for the vocabulary a GGUF file carries. Implementations
 * are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /**
     * The tokenizer that {@code tokenizer.ggml.model} names: {@code llama} (SentencePiece), {@code gpt2} (byte-level
     * BPE, with the pre-tokenizer {@code tokenizer.ggml.pre} names), {@code gemma4} (BPE on SentencePiece-style
     * text) or {@code bert} (WordPiece).
     *
     * @param metadata the model file's metadata, with its {@code tokenizer.ggml.*} keys
     * @return a tokenizer for that vocabulary
     * @throws TokenizerException for an unknown or unsupported model or pre-tokenizer, or a broken vocabulary
     */
    static Tokenizer fromGguf(GgufMetadata metadata) {
        return new GgufTokenizer(Vocabulary.load(metadata));
    }

    /**
     * Tokenizes {@code text}.
     *
     * @param text         the text to tokenize, any Unicode (unpaired surrogates become U+FFFD)
     * @param addSpecial   add BOS and EOS as the vocabulary's {@code add_bos_token}/{@code add_eos_token} say (with
     *                     llama.cpp's defaults per tokenizer model when the keys are absent); WordPiece always
     *                     frames the text with its CLS and SEP tokens
     * @param parseSpecial recognise control tokens written in the text (such as {@code <|im_start|>}) as single
     *                     tokens; user-defined tokens are recognised either way
     * @return the token ids, a new array the caller owns
     * @throws TokenizerException if {@code addSpecial} is set and a WordPiece vocabulary lacks its CLS or SEP token
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /**
     * The text of a token sequence, as llama.cpp's {@code llama_detokenize} gives it with
     * {@code remove_special=false, unparse_special=false}: control and unknown tokens contribute nothing, the space
     * SentencePiece put in front of the first token is dropped, and vocabularies that ask for it get
     * {@code clean_up_tokenization_spaces} (no space before {@code ?!.,} and some contractions). Bytes that are not
     * valid UTF-8 become U+FFFD.
     *
     * @param ids token ids of this vocabulary, in order
     * @return the text they spell
     * @throws TokenizerException if an id is outside the vocabulary
     */
    String decode(int[] ids);

    /**
     * The bytes a token contributes to output: a byte-fallback token gives its one byte, SentencePiece's U+2581
     * (also in {@code gemma4} vocabularies) becomes a space, byte-level BPE text is mapped back to its bytes; control
     * and unknown tokens give nothing.
     *
     * @param id a token id of this vocabulary
     * @return the bytes, possibly part of a UTF-8 sequence; a new array the caller owns
     * @throws TokenizerException if {@code id} is outside the vocabulary
     */
    byte[] tokenBytes(int id);

    /**
     * The token's string as stored in the vocabulary.
     *
     * @param id a token id of this vocabulary
     * @return the text of {@code tokenizer.ggml.tokens} at {@code id}: SentencePiece's U+2581 and byte-level BPE's
     *         mapped characters as they are, control tokens such as {@code <|im_end|>} by name
     * @throws TokenizerException if {@code id} is outside the vocabulary
     */
    String tokenText(int id);

    /** {@return a new decoder for tokens arriving one at a time that never splits a UTF-8 sequence} */
    StreamingDecoder streamingDecoder();

    /** {@return the number of tokens in the vocabulary: ids run from 0 to one less than this} */
    int vocabSize();

    /** {@return the beginning-of-sequence token's id, or -1 when the vocabulary has none} */
    int bos();

    /** {@return the end-of-sequence token's id, or -1} */
    int eos();

    /** {@return the end-of-turn token's id (such as {@code <|eot_id|>}), or -1} */
    int eot();

    /** {@return the end-of-message token's id (a tool call follows, such as {@code <|eom_id|>}), or -1} */
    int eom();

    /**
     * Whether generation stops at this token: EOS, EOT, EOM and llama.cpp's other end-of-generation tokens.
     *
     * @param id a token id
     * @return true for an end-of-generation token
     */
    boolean isEndOfGeneration(int id);

    /** {@return whether {@code encode(text, true, ...)} starts with BOS} */
    boolean addsBos();

    /**
     * A query and a document as one sequence for a reranker, laid out as llama-server lays them out without a rerank
     * template: BOS where the vocabulary adds one, the query, EOS (or the separator when there is no EOS) where it
     * adds EOS, the separator where it adds one between a pair's texts (BERT's WordPiece does), the document, and EOS
     * again where it adds EOS. A BERT vocabulary gives [CLS] query [SEP] document.
     *
     * @param query    the query's tokens, without special tokens around them
     * @param document the document's tokens, likewise
     * @return a new array
     * @throws TokenizerException if the layout needs a special token the vocabulary lacks
     */
    int[] rerankPair(int[] query, int[] document);

    /** {@return the vocabulary's fill-in-the-middle tokens; {@link FillInMiddleTokens#NONE} if it has none} */
    default FillInMiddleTokens fillInMiddle() {
        return FillInMiddleTokens.NONE;
    }
}
