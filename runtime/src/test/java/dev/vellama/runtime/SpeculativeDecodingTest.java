package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import dev.vellama.VellamaException;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Speculative decoding ({@link Session#useDraft}): the stories model in Q8_0 checks what its Q4_0 copy proposes.
 * Every generation gives the tokens plain decoding gives — greedy or sampled, through stop strings, token limits,
 * a full context and a second turn that reuses the cache — while the draft's proposals are mostly kept.
 */
class SpeculativeDecodingTest {
    private static final String PROMPT = "Once upon a time, there was a little girl named Lily. She";
    private static Model target;
    private static Model draftModel;

    @BeforeAll
    static void load() throws Exception {
        target = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
        draftModel = Model.load(TestData.model("stories-llama2-q4_0.gguf"));
    }

    @AfterAll
    static void close() {
        if (target != null) {
            target.close();
        }
        if (draftModel != null) {
            draftModel.close();
        }
    }

    private static SessionOptions options(int ctx) {
        return SessionOptions.defaults().withContextSize(ctx).withThreads(2);
    }

    /** The same generation without and with a draft of {@code maxDraft} tokens; returns the drafted one's stats. */
    private static Session.DraftStats same(GenerationParams params, int ctx, int maxDraft) {
        return same(params, ctx, maxDraft, 0f);
    }

    /** {@link #same(GenerationParams, int, int)} with proposals of at least {@code minProbability}. */
    private static Session.DraftStats same(GenerationParams params, int ctx, int maxDraft, float minProbability) {
        try (Session plain = target.newSession(options(ctx));
             Session checked = target.newSession(options(ctx));
             Session draft = draftModel.newSession(options(ctx))) {
            checked.useDraft(draft, maxDraft, minProbability);
            GenerationResult a = plain.generate(PROMPT, params, t -> { });
            GenerationResult b = checked.generate(PROMPT, params, t -> { });
            assertEquals(ids(a), ids(b), "tokens with a draft of " + maxDraft);
            assertEquals(a.text(), b.text());
            assertEquals(a.stopReason(), b.stopReason());
            return checked.draftStats();
        }
    }

    private static List<Integer> ids(GenerationResult r) {
        return r.tokens().stream().map(GeneratedToken::id).toList();
    }

    @Test
    void greedyAndSampledTextIsPlainDecodingsAndMostProposalsAreKept() {
        for (int maxDraft : new int[] {1, 4, 8}) {
            Session.DraftStats s = same(GenerationParams.greedy().withMaxTokens(60), 256, maxDraft);
            assertTrue(s.drafted() > 0 && s.acceptance() > 0.5, maxDraft + ": " + s);
        }
        Session.DraftStats sampled = same(GenerationParams.defaults().withTemperature(0.8f).withSeed(42L).withMaxTokens(60), 256, 6);
        assertTrue(sampled.drafted() > 0, sampled.toString());
    }

    /**
     * The draft proposes only tokens it gives at least the least probability (llama.cpp's {@code --draft-p-min}):
     * with 1 nothing is proposed and every step is a plain one; with the default fewer proposals are made than with
     * none, and more of them are kept.
     */
    @Test
    void anUnsureDraftProposesNothing() {
        Session.DraftStats none = same(GenerationParams.greedy().withMaxTokens(40), 256, 8, 1f);
        assertEquals(0, none.drafted(), none.toString());
        Session.DraftStats all = same(GenerationParams.greedy().withMaxTokens(60), 256, 8, 0f);
        Session.DraftStats sure = same(GenerationParams.greedy().withMaxTokens(60), 256, 8, Session.DEFAULT_DRAFT_MIN_PROBABILITY);
        assertTrue(sure.drafted() < all.drafted() && sure.acceptance() >= all.acceptance(), sure + " against " + all);
        try (Session s = target.newSession(options(64))) {
            assertThrows(VellamaException.class, () -> s.useDraft(null, 4, 1.5f));
        }
    }

    @Test
    void limitsStopsAndAFullContextEndAsWithoutADraft() {
        same(GenerationParams.greedy().withMaxTokens(5), 256, 8); // the limit falls inside a round
        same(GenerationParams.greedy().withMaxTokens(80).withStop(List.of(".")), 256, 8);
        same(GenerationParams.greedy().withMaxTokens(200), 48, 8); // the context fills: stop reason CONTEXT
    }

    /** A grammar holds the model's own picks; the draft's proposals, made without it, are kept only where they agree. */
    @Test
    void aGrammarConstrainedGenerationIsTheSame() {
        dev.vellama.runtime.grammar.Grammar person = dev.vellama.runtime.grammar.Grammar.parse("""
                root ::= "{\\"name\\": \\"" [A-Z] [a-z]{1,8} "\\", \\"age\\": " [1-9] [0-9]? "}"
                """);
        for (long seed = 0; seed < 3; seed++) {
            same(GenerationParams.defaults().withSeed(seed).withMaxTokens(40).withGrammar(person), 256, 4);
        }
    }

    @Test
    void aSecondTurnReusesTheCacheAsWithoutADraft() {
        try (Session plain = target.newSession(options(256));
             Session checked = target.newSession(options(256));
             Session draft = draftModel.newSession(options(256))) {
            checked.useDraft(draft, 5, 0f);
            GenerationParams p = GenerationParams.greedy().withMaxTokens(30);
            GenerationResult a = plain.generate(PROMPT, p, t -> { });
            GenerationResult b = checked.generate(PROMPT, p, t -> { });
            assertEquals(ids(a), ids(b));
            String next = PROMPT + a.text() + " The next day,";
            GenerationResult a2 = plain.generate(next, p, t -> { });
            GenerationResult b2 = checked.generate(next, p, t -> { });
            assertEquals(ids(a2), ids(b2));
            assertEquals(a2.timings().promptTokens(), b2.timings().promptTokens(), "the same cells reused");
        }
    }

    /**
     * Other architectures and types, each its own draft: the tokens unchanged and every proposal kept, since the
     * draft catches up in one-token steps and the model checks rows bit for bit as such steps (a draft that read its
     * catch-ups as prompt chunks, rounded otherwise, lost two of 36 at near ties).
     */
    @Test
    void aModelDraftingForItselfKeepsEveryProposal() throws Exception {
        for (String file : new String[] {"tiny-llama3-q8_0.gguf", "tiny-qwen2-q4_0.gguf", "tiny-qwen3-q8_0.gguf"}) {
            try (Model m = Model.load(TestData.model(file));
                 Session plain = m.newSession(options(256));
                 Session checked = m.newSession(options(256));
                 Session draft = m.newSession(options(256))) {
                checked.useDraft(draft, 6, 0f);
                GenerationParams p = GenerationParams.greedy().withMaxTokens(40).withIgnoreEos(true);
                GenerationResult a = plain.generate(PROMPT, p, t -> { });
                GenerationResult b = checked.generate(PROMPT, p, t -> { });
                assertEquals(ids(a), ids(b), file);
                Session.DraftStats s = checked.draftStats();
                assertTrue(s.drafted() >= 30, file + ": " + s);
                assertEquals(s.drafted(), s.accepted(), file + ": " + s);
            }
        }
    }

    @Test
    void aDraftWithAnotherVocabularyIsRefused() throws Exception {
        try (Model other = Model.load(TestData.model("tiny-llama3-q8_0.gguf"));
             Session s = target.newSession(options(64));
             Session d = other.newSession(options(64))) {
            VellamaException e = assertThrows(VellamaException.class, () -> s.useDraft(d, 4));
            assertTrue(e.getMessage().contains("vocabulary"), e.getMessage());
            assertThrows(VellamaException.class, () -> s.useDraft(s, 4));
        }
    }
}
