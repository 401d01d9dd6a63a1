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
        p = p.withTemperature((float) options.number("temperature", 0, 2, p.temperature()));
        p = p.withTopK((int) options.integer("top_k", 0, Integer.MAX_VALUE, p.topK()));
        p = p.withTopP((float) options.number("top_p", Double.MIN_VALUE, 1, p.topP()));
        p = p.withMinP((float) options.number("min_p", 0, 1, p.minP()));
        p = p.withPresencePenalty((float) options.number("presence_penalty", -2, 2, 0));
        p = p.withFrequencyPenalty((float) options.number("frequency_penalty", -2, 2, 0));
        p = p.withRepeatPenalty((float) options.number("repeat_penalty", Double.MIN_VALUE, 10, p.repeatPenalty()),
                (int) options.integer("repeat_last_n", -1, Integer.MAX_VALUE, p.repeatLastN()));
        if (options.has("seed")) {
            long seed = options.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE, -1);
            if (seed >= 0) { // ollama's -1 draws a new seed every time
                p = p.withSeed(seed);
            }
        }
        p = p.withStop(options.strings("stop"));
        GenerationParams.Mirostat ms = p.mirostat();
        p = p.toBuilder()
                .typicalP((float) options.number("typical_p", Double.MIN_VALUE, Float.MAX_VALUE, p.typicalP()))
                .mirostat((int) options.integer("mirostat", 0, 2, ms.version()),
                        (float) options.number("mirostat_tau", 0, Float.MAX_VALUE, ms.tau()),
                        (float) options.number("mirostat_eta", 0, Float.MAX_VALUE, ms.eta()))
                .build();
        if (options.has("num_keep")) {
            p = p.withContextShift(p.contextShift().keeping((int) options.integer("num_keep", 0, Integer.MAX_VALUE, 0)));
        }
        return p;
    }
}
