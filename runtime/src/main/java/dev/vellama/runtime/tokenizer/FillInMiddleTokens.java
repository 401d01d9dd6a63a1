package dev.vellama.runtime.tokenizer;

/**
 * A vocabulary's fill-in-the-middle tokens, as llama.cpp finds them: from {@code tokenizer.ggml.fim_*_token_id} (or
 * the older {@code prefix/suffix/middle_token_id}), else by their usual texts ({@code <|fim_prefix|>},
 * {@code <PRE>}, ...). Each id is -1 where the vocabulary has none.
 *
 * @param prefix        opens the text before the gap ({@code <|fim_prefix|>})
 * @param suffix        opens the text after the gap ({@code <|fim_suffix|>})
 * @param middle        asks for the gap's text ({@code <|fim_middle|>})
 * @param pad           padding ({@code <|fim_pad|>}); ends a generation
 * @param repository    opens a repository's name in repository-level prompts ({@code <|repo_name|>}); ends a
 *                      generation
 * @param fileSeparator opens a file of a repository-level prompt ({@code <|file_sep|>}); ends a generation
 */
public record FillInMiddleTokens(int prefix, int suffix, int middle, int pad, int repository, int fileSeparator) {
    /** A vocabulary without any. */
    public static final FillInMiddleTokens NONE = new FillInMiddleTokens(-1, -1, -1, -1, -1, -1);

    /** {@return whether the three tokens a fill-in-the-middle prompt needs are there: prefix, suffix, middle} */
    public boolean supported() {
        return prefix >= 0 && suffix >= 0 && middle >= 0;
    }
}
