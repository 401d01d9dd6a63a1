package dev.vellama.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * What a {@code tokenizer.ggml.pre} name stands for: the split regexes (applied in sequence) and the vocabulary
 * flags llama.cpp sets with them.
 *
 * @param regexes          the pre-tokenizer regexes, in llama.cpp's syntax
 * @param ignoreMerges     a word that is a token as a whole is emitted without merging
 * @param addBos           the default for adding BOS (the GGUF key may still override it)
 * @param cleanSpaces      decoding removes spaces before punctuation and some contractions
 * @param noBos            the vocabulary has no BOS token
 * @param alphabet         what the merged symbols are: byte-level characters or the text's own
 * @param wholeNewlineRuns a word made only of line breaks is emitted whole when it is a token
 * @param forceBos         BOS is added even when the GGUF key says not to
 */
record PreTokenizerSpec(List<String> regexes, boolean ignoreMerges, boolean addBos, boolean cleanSpaces, boolean noBos,
                        BpeAlphabet alphabet, boolean wholeNewlineRuns, boolean forceBos) {

    PreTokenizerSpec {
        regexes = List.copyOf(regexes);
    }

    /** A byte-level pre-tokenizer, which all but Gemma 4's are. */
    PreTokenizerSpec(List<String> regexes, boolean ignoreMerges, boolean addBos, boolean cleanSpaces, boolean noBos) {
        this(regexes, ignoreMerges, addBos, cleanSpaces, noBos, BpeAlphabet.BYTE_LEVEL, false, false);
    }

    /** The pre-tokenizer these regexes describe, with hand-written scanners for GPT-2's, Llama 3's and Qwen 2's. */
    PreTokenizer create() {
        List<SplitRule> rules = new ArrayList<>(regexes.size());
        for (String regex : regexes) {
            if (regex.equals(Gpt2Split.REGEX)) {
                rules.add(new Gpt2Split());
            } else if (regex.equals(Llama3Split.REGEX)) {
                rules.add(new Llama3Split(3));
            } else if (regex.equals(Llama3Split.QWEN2_REGEX)) {
                rules.add(new Llama3Split(1));
            } else {
                rules.add(new RegexSplit(regex));
            }
        }
        return new PreTokenizer(rules);
    }
}
