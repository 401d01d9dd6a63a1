package dev.vellama.runtime;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import dev.vellama.runtime.tokenizer.FillInMiddleTokens;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * A fill-in-the-middle (code infill) prompt, laid out token for token as llama-server's {@code /infill} lays it
 * out, in its repository-level form where the vocabulary has the tokens for it:
 *
 * <pre>
 * [repo]myproject\n [file_sep]name\n text ... [file_sep]filename\n [BOS] [prefix]PREFIX PROMPT [suffix]SUFFIX [middle]
 * </pre>
 *
 * The model then writes the text that belongs between the prefix (and {@code prompt}, the start of the gap the user
 * has already typed) and the suffix. Sizes follow llama-server: at most three quarters of a batch of the prefix (its
 * end), a quarter less the prompt of the suffix (its start), and of the extra files what the context holds besides a
 * batch and twice the longest reply (their end). Without a file separator, files are told apart by a
 * {@code --- snippet ---} line; {@code suffixFirst} puts the suffix before the prefix, for models trained in that
 * order (llama-server's {@code --spm-infill}).
 *
 * @param prefix the text before the gap
 * @param suffix the text after the gap
 * @param extra  other files, put in front as context (oldest-first: the last ones are kept when they do not fit)
 * @param prompt text that starts the gap; control tokens written in it are read as such
 */
public record InfillPrompt(String prefix, String suffix, List<ExtraFile> extra, String prompt) {
    /**
     * A file given as context.
     *
     * @param filename its name, written after the file separator
     * @param text     its content
     */
    public record ExtraFile(String filename, String text) {
        /** Checks the parts. */
        public ExtraFile {
            Objects.requireNonNull(filename, "filename");
            Objects.requireNonNull(text, "text");
        }
    }

    /**
     * How much of each part fits.
     *
     * @param batchSize   the batch the prefix, prompt and suffix share (llama-server's {@code -b})
     * @param maxTokens   the longest reply, or -1 for none (llama-server's {@code -n})
     * @param contextSize the context the prompt and reply share
     * @param suffixFirst whether the suffix comes before the prefix
     * @param repositoryLevel whether the repository's name and the current file's separator frame the prompt where the
     *                    vocabulary has those tokens (llama-server's layout); without, the prompt is the extra files,
     *                    if any, then prefix, suffix and middle alone (the layout of ollama's code templates)
     */
    public record Limits(int batchSize, int maxTokens, int contextSize, boolean suffixFirst, boolean repositoryLevel) {
        /** Checks the sizes. */
        public Limits {
            if (batchSize < 1 || contextSize < 1 || maxTokens < -1) {
                throw new IllegalArgumentException("batch " + batchSize + ", context " + contextSize + ", reply " + maxTokens);
            }
        }

        /**
         * llama-server's layout and sizes.
         *
         * @param batchSize   the batch the prefix, prompt and suffix share (llama-server's {@code -b})
         * @param maxTokens   the longest reply, or -1 for none (llama-server's {@code -n})
         * @param contextSize the context the prompt and reply share
         * @return limits with the prefix first and the repository-level frame
         */
        public static Limits of(int batchSize, int maxTokens, int contextSize) {
            return new Limits(batchSize, maxTokens, contextSize, false, true);
        }
    }

    /** Checks the parts. */
    public InfillPrompt {
        Objects.requireNonNull(prefix, "prefix");
        Objects.requireNonNull(suffix, "suffix");
        extra = List.copyOf(extra);
        Objects.requireNonNull(prompt, "prompt");
    }

    /**
     * The prompt's tokens.
     *
     * @param tokenizer the model's tokenizer
     * @param limits    how much of each part fits
     * @return the token ids, a new array
     * @throws UnsupportedModelException if the vocabulary lacks a prefix, suffix or middle token
     */
    public int[] tokens(Tokenizer tokenizer, Limits limits) {
        FillInMiddleTokens fim = tokenizer.fillInMiddle();
        if (!fim.supported()) {
            throw new UnsupportedModelException("the model's vocabulary has no fill-in-the-middle tokens ("
                    + (fim.prefix() < 0 ? "prefix " : "") + (fim.suffix() < 0 ? "suffix " : "")
                    + (fim.middle() < 0 ? "middle " : "") + "missing), so it cannot fill in code");
        }
        List<int[]> extraParts = new ArrayList<>();
        if (fim.repository() >= 0 && limits.repositoryLevel()) {
            extraParts.add(new int[] {fim.repository()});
            extraParts.add(tokenizer.encode("myproject\n", false, false));
        }
        for (ExtraFile file : extra) {
            if (fim.fileSeparator() >= 0) {
                extraParts.add(new int[] {fim.fileSeparator()});
                extraParts.add(tokenizer.encode(file.filename() + "\n", false, false));
            } else {
                extraParts.add(tokenizer.encode("\n\n--- snippet ---\n\n", false, false));
            }
            extraParts.add(tokenizer.encode(file.text(), false, false));
        }
        if (fim.fileSeparator() >= 0 && limits.repositoryLevel()) {
            extraParts.add(new int[] {fim.fileSeparator()});
            extraParts.add(tokenizer.encode("filename\n", false, false));
        }
        int[] extraTokens = concat(extraParts);
        int[] before = tokenizer.encode(prefix, false, false);
        int[] after = tokenizer.encode(suffix, false, false);
        int[] start = tokenizer.encode(prompt, false, true);
        int batch = limits.batchSize();
        int prefixTake = Math.min(before.length, 3 * (batch / 4));
        int suffixTake = Math.min(after.length, Math.max(0, batch / 4 - (2 + start.length)));
        long room = (long) limits.contextSize() - batch - 2L * limits.maxTokens();
        int extraTake = (int) Math.min(Math.max(0, room), extraTokens.length);

        int[] prefixPart = concat(List.of(new int[] {fim.prefix()},
                Arrays.copyOfRange(before, before.length - prefixTake, before.length), start));
        int[] suffixPart = concat(List.of(new int[] {fim.suffix()}, Arrays.copyOf(after, suffixTake)));
        boolean bos = tokenizer.addsBos() && tokenizer.bos() >= 0;
        return concat(List.of(Arrays.copyOfRange(extraTokens, extraTokens.length - extraTake, extraTokens.length),
                bos ? new int[] {tokenizer.bos()} : new int[0],
                limits.suffixFirst() ? suffixPart : prefixPart,
                limits.suffixFirst() ? prefixPart : suffixPart,
                new int[] {fim.middle()}));
    }

    private static int[] concat(List<int[]> parts) {
        int[] out = new int[parts.stream().mapToInt(a -> a.length).sum()];
        int at = 0;
        for (int[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }
}
