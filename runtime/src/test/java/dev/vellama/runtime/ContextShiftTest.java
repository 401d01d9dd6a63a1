package dev.vellama.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.model.KvCache;
import dev.vellama.runtime.synth.ModelShape;
import dev.vellama.runtime.synth.SyntheticModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A full context forgets its oldest tokens and goes on, as llama.cpp's context shift does. */
class ContextShiftTest {
    private static Model stories;
    private static Model chatModel;

    @BeforeAll
    static void load() throws IOException {
        stories = Model.load(TestData.model("stories-llama2-q8_0.gguf"));
        chatModel = Model.load(TestData.model("tiny-llama3-q8_0.gguf"));
    }

    @AfterAll
    static void close() {
        if (stories != null) {
            stories.close();
        }
        if (chatModel != null) {
            chatModel.close();
        }
    }

    private static Session session(Model m, int ctx, CacheType precision) {
        return m.newSession(SessionOptions.defaults().withContextSize(ctx).withBatchSize(16).withThreads(2).withKvCache(precision));
    }

    private static int[] tokens(Model m, int n, int seed) {
        int[] t = new int[n];
        t[0] = m.tokenizer().bos();
        java.util.Random r = new java.util.Random(seed);
        for (int i = 1; i < n; i++) {
            t[i] = 100 + r.nextInt(m.config().vocabSize() - 200);
        }
        return t;
    }

    private static int[] concat(int[]... parts) {
        int[] all = new int[Arrays.stream(parts).mapToInt(p -> p.length).sum()];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /**
     * In a one-layer model a cached key or value depends only on its token and position, so after a shift the
     * cache must equal a fresh evaluation of the kept tokens at their new positions, and so must the next logits:
     * the re-rotation of the keys is checked exactly (up to float rounding, with an F32 cache), llama3 RoPE scaling
     * included.
     */
    @Test
    void afterAShiftTheLogitsAreThoseOfAFreshEvaluationOfTheKeptTokens(@TempDir Path tmp) throws IOException {
        ModelShape oneLayer = new ModelShape("one-layer", "llama", "5M", 256, 1, 4, 2, 64, 512, 2048, 500000f, 1e-5f,
                true, false, false, "tiny-llama3-q8_0.gguf", new float[] {32f, 1f, 4f, 8192f}, null, null, null, null);
        Path file = tmp.resolve("one-layer.gguf");
        try (GgufFile vocab = GgufFile.open(TestData.model("tiny-llama3-q8_0.gguf"))) {
            SyntheticModel.write(oneLayer, SyntheticModel.FileType.F16, vocab.metadata(), 3, file);
        }
        try (Model m = Model.load(file); Session shifted = session(m, 64, CacheType.F32);
             Session fresh = session(m, 64, CacheType.F32)) {
            int[] t = tokens(m, 40, 1);
            GenerationParams once = GenerationParams.greedy().withMaxTokens(1).withTopLogprobs(8);
            shifted.generate(t, once.withMaxTokens(0), null);
            assertEquals(18, shifted.shiftContext(4)); // (40 - 4) / 2
            assertEquals(22, shifted.position());
            int[] next = {m.tokenizer().bos() + 7};
            GenerationResult a = shifted.generate(concat(t, next), once, null);
            assertEquals(1, shifted.lastPrefillEvaluated(), "only the new token is evaluated");
            int[] kept = concat(Arrays.copyOfRange(t, 0, 4), Arrays.copyOfRange(t, 22, 40), next);
            GenerationResult b = fresh.generate(kept, once, null);
            List<TokenLogprob> la = a.tokens().get(0).topLogprobs();
            List<TokenLogprob> lb = b.tokens().get(0).topLogprobs();
            for (int i = 0; i < la.size(); i++) {
                assertEquals(lb.get(i).id(), la.get(i).id());
                assertEquals(lb.get(i).logprob(), la.get(i).logprob(), 1e-4f);
            }
            assertArrayEquals(Arrays.copyOf(fresh.cachedTokens(), 23), Arrays.copyOf(shifted.cachedTokens(), 23));
        }
    }

    /** Without a shift a full context ends the generation; with one it goes on as long as asked. */
    @Test
    void aGenerationLongerThanTheContextGoesOnWithAShift() {
        try (Session s = session(stories, 64, CacheType.F16)) {
            GenerationParams p = GenerationParams.defaults().withSeed(3L).withMaxTokens(150).withIgnoreEos(true);
            GenerationResult stopped = s.generate("Once upon a time", p, null);
            assertEquals(StopReason.CONTEXT, stopped.stopReason());
            assertEquals(0, stopped.forgottenTokens());
            s.reset();
            GenerationResult shifted = s.generate("Once upon a time", p.withContextShift(ContextShift.SHIFT), null);
            assertEquals(StopReason.LENGTH, shifted.stopReason());
            assertEquals(150, shifted.tokens().size());
            assertTrue(shifted.forgottenTokens() > 0);
            assertEquals(stories.tokenizer().bos(), s.cachedTokens()[0], "the BOS token is kept");
            // the story goes on from what is kept, in words, not one token repeated
            long distinct = Arrays.stream(shifted.tokenIds()).skip(100).distinct().count();
            assertTrue(distinct > 20, shifted.text());
        }
    }

    @Test
    void aPromptLongerThanTheContextKeepsItsStartAndItsEnd() {
        try (Session s = session(stories, 64, CacheType.F16)) {
            int[] prompt = tokens(stories, 150, 2);
            GenerationParams p = GenerationParams.greedy().withMaxTokens(4);
            assertThrows(ContextOverflowException.class, () -> s.generate(prompt, p, null));
            GenerationResult r = s.generate(prompt, p.withContextShift(new ContextShift(ContextShift.Mode.SHIFT, 3)), null);
            assertEquals(4, r.tokens().size());
            assertTrue(r.forgottenTokens() > 0);
            assertArrayEquals(Arrays.copyOf(prompt, 3), Arrays.copyOf(s.cachedTokens(), 3));
            // then the prompt's last tokens, then the generated tokens the model has seen (all but the last)
            int tail = s.position() - 3 - 3;
            assertTrue(tail > 20, "tail " + tail);
            assertArrayEquals(Arrays.copyOfRange(prompt, 150 - tail, 150), Arrays.copyOfRange(s.cachedTokens(), 3, 3 + tail));
        }
    }

    /** Fifty turns on a 128-token context: every turn is answered, and the system message stays at the start. */
    @Test
    void aLongChatOnASmallContextGoesOnKeepingTheSystemMessage() {
        try (Session s = session(chatModel, 128, CacheType.F16)) {
            List<ChatMessage> messages = new ArrayList<>();
            messages.add(ChatMessage.system("You are a helpful assistant."));
            // the system message as the template renders it, as far as a conversation's rendering begins the same way
            int[] alone = chatModel.chatPrompt(List.of(messages.get(0)), chatModel.chatTemplate(), false);
            int[] first = chatModel.chatPrompt(List.of(messages.get(0), ChatMessage.user("x")));
            int common = 0;
            while (common < alone.length && alone[common] == first[common]) {
                common++;
            }
            assertTrue(common > 8, "the system message renders as a prefix of the conversation");
            int[] system = Arrays.copyOf(alone, common);
            GenerationParams p = GenerationParams.defaults().withSeed(5L).withMaxTokens(24);
            int forgotten = 0;
            for (int turn = 0; turn < 50; turn++) {
                messages.add(ChatMessage.user("Tell me about number " + turn + "."));
                GenerationResult r = s.chat(messages, p, null);
                assertTrue(r.stopReason() != StopReason.CONTEXT && r.stopReason() != StopReason.CANCELLED, "turn " + turn);
                messages.add(ChatMessage.assistant(r.text().strip()));
                forgotten += r.forgottenTokens();
                assertTrue(s.position() <= 128);
                // the cache starts with the system message as rendered alone (up to where the template goes on)
                int n = 0;
                while (n < system.length && system[n] == s.cachedTokens()[n]) {
                    n++;
                }
                assertEquals(system.length, n, "turn " + turn + ": the system message was forgotten");
            }
            assertTrue(forgotten > 500, "50 turns do not fit 128 tokens without shifts: " + forgotten);
            assertTrue(s.forgottenTokens() > 0);
        }
    }

    @Test
    void droppingOldTurnsKeepsTheSystemMessageAndTheNewest() {
        try (Session s = session(chatModel, 128, CacheType.F16)) {
            List<ChatMessage> messages = new ArrayList<>();
            messages.add(ChatMessage.system("Be brief."));
            for (int i = 0; i < 10; i++) {
                messages.add(ChatMessage.user("Question number " + i + " is about the weather in a town far away."));
                messages.add(ChatMessage.assistant("Answer number " + i + " says it is sunny there today."));
            }
            messages.add(ChatMessage.user("And now?"));
            Session.FittedConversation fit = s.fitConversation(messages, chatModel.chatTemplate());
            assertTrue(fit.droppedMessages() > 0 && fit.droppedMessages() % 2 == 0, "dropped " + fit.droppedMessages());
            assertTrue(fit.tokens().length + 32 <= 128);
            String text = chatModel.tokenizer().decode(fit.tokens());
            assertTrue(text.contains("Be brief.") && text.contains("And now?") && !text.contains("number 0 "), text);
            GenerationResult r = s.chat(messages, GenerationParams.greedy().withMaxTokens(8)
                    .withContextShift(ContextShift.DROP_OLDEST_TURNS), null);
            assertEquals(0, r.forgottenTokens());
            assertFalse(r.tokens().isEmpty());
        }
    }
}
