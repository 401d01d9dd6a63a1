/**
 * Tokenizers for the vocabularies GGUF files carry, reproducing llama.cpp's token ids exactly.
 *
 * <p>{@link dev.vellama.runtime.tokenizer.Tokenizer#fromGguf} reads {@code tokenizer.ggml.*} metadata and picks the
 * algorithm by {@code tokenizer.ggml.model}: SentencePiece BPE ({@code llama}: scores, byte fallback, prefix
 * space), byte-level BPE ({@code gpt2}: merge ranks, GPT-2's byte alphabet, and the pre-tokenizer named by
 * {@code tokenizer.ggml.pre}), Gemma 4's BPE ({@code gemma4}: merge ranks over the text's own characters with
 * spaces as U+2581 and byte fallback, as SentencePiece writes them) or WordPiece ({@code bert}). Special tokens
 * written in the text are matched first, longest first; control tokens only when asked to, user-defined tokens
 * always.
 *
 * <p>Pre-tokenizer regexes are evaluated as llama.cpp evaluates them: GPT-2's, Llama 3's and Qwen 2's by
 * hand-written scanners over Unicode categories, the others by {@link java.util.regex} on a copy of the text in
 * which every non-ASCII character stands for its category, which is what llama.cpp hands its regex engine. The
 * categories come from {@link java.lang.Character} (the JDK's Unicode version, which may differ from llama.cpp's
 * tables for characters assigned recently).
 *
 * <p>Tested against every vector of llama.cpp's tokenizer tests shipped with the reference data, and against the
 * prompts llama.cpp tokenized for the golden outputs.
 */
package dev.vellama.runtime.tokenizer;
