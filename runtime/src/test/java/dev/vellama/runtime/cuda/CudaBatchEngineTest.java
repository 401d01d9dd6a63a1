package dev.vellama.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.vellama.runtime.BatchEngine;
import dev.vellama.runtime.ResultFuture;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;

/**
 * Continuous batching on the GPU ({@code serve --device cuda}): six greedy requests over four slots, the batched
 * step on the device, each giving the text a lone CUDA session gives it; slots saved and restored on the device.
 * Skipped where there is no CUDA device.
 */
class CudaBatchEngineTest {
    private static final List<String> PROMPTS = List.of("Once upon a time", "The little dog ran",
            "She looked at the sky and", "Tom had a red ball", "One day, a bird", "Lily wanted to");

    @Test
    void parallelGreedyRequestsOnTheGpuGiveTheLoneSessionsText() throws Exception {
        CudaForwardPassTest.driverOrSkip();
        try (Model model = Model.load(CudaTestSupport.modelOrSkip("stories-llama2-q8_0.gguf"))) {
            GenerationParams greedy = GenerationParams.greedy().withMaxTokens(32);
            List<String> expected = new ArrayList<>();
            for (String p : PROMPTS) {
                try (Session s = model.newSession(SessionOptions.defaults().withContextSize(256)
                        .withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS))) {
                    expected.add(s.generate(p, greedy, null).text());
                }
            }
            BatchEngine.Options options = BatchEngine.Options.of(4, 1024).withThreads(2)
                    .withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS);
            try (BatchEngine engine = new BatchEngine(model, options)) {
                List<ResultFuture> results = new ArrayList<>();
                for (String p : PROMPTS) {
                    results.add(submit(engine, model.tokenizer().encode(p, true, true), greedy));
                }
                for (int i = 0; i < PROMPTS.size(); i++) {
                    assertEquals(expected.get(i), results.get(i).await().text(), PROMPTS.get(i));
                }
                // a request sharing a slot's prefix evaluates only the rest and still gives the same text
                GenerationResult again = submit(engine, model.tokenizer().encode(PROMPTS.get(0), true, true), greedy)
                        .await();
                assertEquals(expected.get(0), again.text(), "from the cached prefix");
            }
        }
    }

    /**
     * {@code /slots} on the GPU: a slot's cells saved, erased and restored into the other slot answer the same
     * request with one prompt token evaluated, and the file loads into a lone CUDA session that goes on alike.
     */
    @Test
    void aSlotSavedOnTheGpuRestoresIntoAnotherSlotAndASession(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        CudaForwardPassTest.driverOrSkip();
        try (Model model = Model.load(CudaTestSupport.modelOrSkip("stories-llama2-q8_0.gguf"))) {
            GenerationParams greedy = GenerationParams.greedy().withMaxTokens(16);
            int[] prompt = model.tokenizer().encode(PROMPTS.get(1), true, true);
            java.nio.file.Path file = dir.resolve("slot.bin");
            GenerationResult first;
            BatchEngine.Options options = BatchEngine.Options.of(2, 1024).withThreads(2)
                    .withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS);
            try (BatchEngine engine = new BatchEngine(model, options)) {
                org.junit.jupiter.api.Assertions.assertTrue(engine.canSaveSlots());
                first = submit(engine, prompt, greedy).await();
                int slot = engine.slotStates().stream().filter(st -> st.cachedTokens() > 0).findFirst().orElseThrow().slot();
                int saved = engine.saveSlot(slot, file).tokens();
                engine.eraseSlot(slot);
                assertEquals(saved, engine.restoreSlot(1 - slot, file).tokens());
                GenerationResult again = submit(engine, prompt, greedy).await();
                assertEquals(first.text(), again.text());
                assertEquals(1, again.timings().promptTokens());
            }
            try (Session s = model.newSession(SessionOptions.defaults().withContextSize(512)
                    .withDevice(SessionOptions.Device.CUDA, SessionOptions.ALL_LAYERS))) {
                s.load(file);
                GenerationResult fromFile = s.generate(prompt, greedy, null);
                assertEquals(first.text(), fromFile.text());
            }
        }
    }

    private static ResultFuture submit(BatchEngine engine, int[] prompt, GenerationParams params) {
        ResultFuture f = new ResultFuture();
        engine.submit(prompt, params, f);
        return f;
    }
}
