package dev.vellama.server;

import dev.vellama.runtime.GenerationParams;

/**
 * Ollama's {@code options} object (its Modelfile parameters) read into {@link GenerationParams}: {@code num_predict},
 * {@code temperature}, {@code top_k}, {@code top_p}, {@code min_p}, {@code typical_p}, {@code repeat_penalty},
 * {@code repeat_last_n}, {@code presence_penalty}, {@code frequency_penalty}, {@code seed}, {@code stop},
 * {@code mirostat}, {@code mirostat_tau}, {@code mirostat_eta} and {@code num_keep}. Absent ones keep llama.cpp's
 * defaults, as the OpenAI routes do (not ollama's own: its top-p 0.9 and repeat penalty 1.1). The load-time options
 * ({@code num_ctx}, {@code num_gpu}, {@code num_thread}, ...) are fixed when the server starts and are ignored, as
 * are names ollama does not know (it logs and ignores them too).
 */
final class OllamaOptions {
    private OllamaOptions() {}

    /**
     * The sampling the request's {@code options} ask for; none given is llama.cpp's defaults.
     *
     * @param options the request's {@code options} object, or null when it has none
     */
    static GenerationParams read(Json options) {
        GenerationParams p = GenerationParams.defaults();
        if (options == null) {
            return p;
        }
        // -1: until an end-of-generation token or a full context; -2 (fill the context) ends there too
        long predict = options.integer("num_predict", -2, Integer.MAX_VALUE, -1);
        p = p.withMaxTokens(predict <= 0 ? -1 : (int) predict);
        p = SamplingFields.llamaCppFields(options, p);
        if (options.has("seed")) {
            long seed = options.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE, -1);
            if (seed >= 0) { // ollama's -1 draws a new seed every time
                p = p.withSeed(seed);
            }
        }
        p = p.withStop(options.strings("stop"));
        if (options.has("num_keep")) {
            p = p.withContextShift(p.contextShift().keeping((int) options.integer("num_keep", 0, Integer.MAX_VALUE, 0)));
        }
        return p;
    }
}
