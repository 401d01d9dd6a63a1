package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import dev.vellama.runtime.tokenizer.FillInMiddleTokens;
import dev.vellama.runtime.tokenizer.StreamingDecoder;
import dev.vellama.runtime.tokenizer.Tokenizer;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fill-in-the-middle prompts laid out as llama-server's {@code format_infill} lays them out, on the Qwen 2
 * vocabulary (which has all six tokens: {@code <|fim_prefix|>} 151659 ... {@code <|file_sep|>} 151664).
 */
class InfillPromptTest {
    private static final int PRE = 151659;
    private static final int MID = 151660;
    private static final int SUF = 151661;
    private static final int REPO = 151663;
    private static final int FILE_SEP = 151664;
    private static Model qwen;
    private static Tokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        qwen = Model.load(TestData.model("tiny-qwen2-q4_0.gguf"));
        tok = qwen.tokenizer();
    }

    @AfterAll
    static void close() {
        if (qwen != null) {
            qwen.close();
        }
    }

    private static InfillPrompt.Limits limits(int batch, int maxTokens, int context, boolean suffixFirst) {
        return new InfillPrompt.Limits(batch, maxTokens, context, suffixFirst, true);
    }

    @Test
    void vocabularyFindsTheSixTokensByTheirTexts() {
        assertEquals(new FillInMiddleTokens(PRE, SUF, MID, 151662, REPO, FILE_SEP), tok.fillInMiddle());
        assertEquals("<|fim_prefix|>", tok.tokenText(PRE));
        assertEquals("<|file_sep|>", tok.tokenText(FILE_SEP));
        assertTrue(tok.isEndOfGeneration(FILE_SEP) && tok.isEndOfGeneration(REPO) && tok.isEndOfGeneration(151662),
                "pad, repository and file separator end a generation, as in llama.cpp");
    }

    @Test
    void repositoryLevelLayout() {
        InfillPrompt p = new InfillPrompt("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n",
                List.of(new InfillPrompt.ExtraFile("util.py", "X = 1\n")), "return");
        int[] got = p.tokens(tok, limits(512, -1, 4096, false));
        List<Integer> want = new ArrayList<>();
        want.add(REPO);
        add(want, tok.encode("myproject\n", false, false));
        want.add(FILE_SEP);
        add(want, tok.encode("util.py\n", false, false));
        add(want, tok.encode("X = 1\n", false, false));
        want.add(FILE_SEP);
        add(want, tok.encode("filename\n", false, false));
        want.add(PRE); // Qwen 2 adds no BOS
        add(want, tok.encode("def add(a, b):\n    ", false, false));
        add(want, tok.encode("return", false, true));
        want.add(SUF);
        add(want, tok.encode("\n\nprint(add(1, 2))\n", false, false));
        want.add(MID);
        assertArrayEquals(want.stream().mapToInt(Integer::intValue).toArray(), got);
        assertEquals("<|repo_name|>myproject\n<|file_sep|>util.py\nX = 1\n<|file_sep|>filename\n<|fim_prefix|>def add(a, b):\n"
                + "    return<|fim_suffix|>\n\nprint(add(1, 2))\n<|fim_middle|>", text(got));
    }

    @Test
    void controlTokensAreTextInThePrefixButTokensInThePrompt() {
        int[] got = new InfillPrompt("<|fim_middle|>", "", List.of(), "<|fim_pad|>").tokens(tok, limits(512, -1, 4096, false));
        // the prefix's marker is spelled out, the prompt's is one token
        assertEquals(1, IntStream.of(got).filter(t -> t == MID).count(), "only the closing middle token");
        assertEquals(MID, got[got.length - 1]);
        assertEquals(1, IntStream.of(got).filter(t -> t == 151662).count(), "the prompt's <|fim_pad|>");
    }

    @Test
    void partsAreCutToTheBatchAndContextAsLlamaServerCutsThem() {
        String prefix = "a b c d e f g h i j k l m n o p q r s t u v w x y z ".repeat(8);
        String suffix = "0 1 2 3 4 5 6 7 8 9 ".repeat(8);
        List<InfillPrompt.ExtraFile> extra = List.of(new InfillPrompt.ExtraFile("a.txt", "one two three four five six seven eight"));
        int[] before = tok.encode(prefix, false, false);
        int[] after = tok.encode(suffix, false, false);
        int[] start = tok.encode("go", false, true);
        int batch = 64;
        int context = 100;
        int maxTokens = 10;
        int[] got = new InfillPrompt(prefix, suffix, extra, "go").tokens(tok, limits(batch, maxTokens, context, false));
        int prefixTake = 3 * (batch / 4); // 48: the prefix's end
        int suffixTake = batch / 4 - (2 + start.length); // 13: the suffix's start
        int extraTake = context - batch - 2 * maxTokens; // 16: the extra part's end
        assertTrue(before.length > prefixTake && after.length > suffixTake, "the parts are longer than what fits");
        assertEquals(extraTake + 1 + prefixTake + start.length + 1 + suffixTake + 1, got.length);
        int at = extraTake;
        assertEquals(PRE, got[at]);
        assertArrayEquals(java.util.Arrays.copyOfRange(before, before.length - prefixTake, before.length),
                java.util.Arrays.copyOfRange(got, at + 1, at + 1 + prefixTake));
        at += 1 + prefixTake + start.length;
        assertEquals(SUF, got[at]);
        assertArrayEquals(java.util.Arrays.copyOf(after, suffixTake), java.util.Arrays.copyOfRange(got, at + 1, at + 1 + suffixTake));
        assertEquals(MID, got[got.length - 1]);
        // the extra part's last tokens: the current file's separator and name
        assertEquals(FILE_SEP, got[extraTake - 1 - tok.encode("filename\n", false, false).length]);
        // a context that leaves nothing for extra files drops them all
        int[] none = new InfillPrompt(prefix, suffix, extra, "go").tokens(tok, limits(batch, 0, batch, false));
        assertEquals(PRE, none[0]);
    }

    @Test
    void suffixFirstPutsTheSuffixBeforeThePrefix() {
        int[] got = new InfillPrompt("A", "B", List.of(), "").tokens(tok, limits(512, -1, 512, false));
        int[] spm = new InfillPrompt("A", "B", List.of(), "").tokens(tok, limits(512, -1, 512, true));
        int a = tok.encode("A", false, false)[0];
        int b = tok.encode("B", false, false)[0];
        // context 512, batch 512, no reply limit: room for 512 - 512 + 2 = 2 tokens of the extra part, its end
        int[] extraEnd = java.util.Arrays.copyOfRange(got, 0, got.length - 5);
        int[] currentFile = tok.encode("filename\n", false, false);
        assertArrayEquals(java.util.Arrays.copyOfRange(currentFile, currentFile.length - 2, currentFile.length), extraEnd);
        assertArrayEquals(concat(extraEnd, new int[] {PRE, a, SUF, b, MID}), got);
        assertArrayEquals(concat(extraEnd, new int[] {SUF, b, PRE, a, MID}), spm);
    }

    @Test
    void withoutFileSeparatorFilesAreToldApartBySnippetLines() {
        Tokenizer plain = new FimOnly(tok, new FillInMiddleTokens(PRE, SUF, MID, -1, -1, -1), true);
        int[] got = new InfillPrompt("p", "s", List.of(new InfillPrompt.ExtraFile("f", "body")), "").tokens(plain,
                limits(64, -1, 1024, false));
        // a vocabulary that adds BOS gets it after the extra files, just before the prefix
        assertEquals("\n\n--- snippet ---\n\nbody<|endoftext|><|fim_prefix|>p<|fim_suffix|>s<|fim_middle|>", text(got));
    }

    @Test
    void withoutTheRepositoryFrameOnlyPrefixSuffixAndMiddleRemain() {
        int[] got = new InfillPrompt("def f():\n    ", "\n", List.of(), "").tokens(tok,
                new InfillPrompt.Limits(512, -1, 4096, false, false));
        assertEquals("<|fim_prefix|>def f():\n    <|fim_suffix|>\n<|fim_middle|>", text(got));
    }

    @Test
    void aVocabularyWithoutTheTokensIsRefused() throws IOException {
        try (Model stories = Model.load(TestData.model("stories-llama2-q8_0.gguf"))) {
            UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                    () -> new InfillPrompt("a", "b", List.of(), "").tokens(stories.tokenizer(), limits(512, -1, 512, false)));
            assertTrue(e.getMessage().contains("fill-in-the-middle"), e.getMessage());
        }
    }

    private static String text(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(tok.tokenText(id).startsWith("<|") ? tok.tokenText(id) : new String(tok.tokenBytes(id), java.nio.charset.StandardCharsets.UTF_8));
        }
        return sb.toString();
    }

    private static void add(List<Integer> list, int[] ids) {
        for (int id : ids) {
            list.add(id);
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The Qwen 2 tokenizer with other fill-in-the-middle tokens, and BOS added or not. */
    private record FimOnly(Tokenizer inner, FillInMiddleTokens fim, boolean addBos) implements Tokenizer {
        @Override public int[] encode(String text, boolean addSpecial, boolean parseSpecial) { return inner.encode(text, addSpecial, parseSpecial); }
        @Override public String decode(int[] ids) { return inner.decode(ids); }
        @Override public byte[] tokenBytes(int id) { return inner.tokenBytes(id); }
        @Override public String tokenText(int id) { return inner.tokenText(id); }
        @Override public StreamingDecoder streamingDecoder() { return inner.streamingDecoder(); }
        @Override public int vocabSize() { return inner.vocabSize(); }
        @Override public int bos() { return addBos ? 151643 : -1; }
        @Override public int eos() { return inner.eos(); }
        @Override public int eot() { return inner.eot(); }
        @Override public int eom() { return inner.eom(); }
        @Override public boolean isEndOfGeneration(int id) { return inner.isEndOfGeneration(id); }
        @Override public boolean addsBos() { return addBos; }
        @Override public int[] rerankPair(int[] query, int[] document) { return inner.rerankPair(query, document); }
        @Override public FillInMiddleTokens fillInMiddle() { return fim; }
    }
}
