package dev.vellama.server;

import dev.vellama.runtime.GenerationParams;

/**
 * The sampling fields chat and text completions share, read into {@link GenerationParams}: OpenAI's fields, and
 * llama-server's extensions ({@code top_k}, {@code min_p}, {@code repeat_penalty}, {@code repeat_last_n},
 * {@code n_predict}, {@code n_keep}, {@code ignore_eos}, {@code typical_p}, {@code mirostat}, {@code mirostat_tau},
 * {@code mirostat_eta}, {@code dry_multiplier}, {@code dry_base}, {@code dry_allowed_length},
 * {@code dry_penalty_last_n}, {@code dry_sequence_breakers}, {@code xtc_probability}, {@code xtc_threshold}, and for
 * code completion {@code n_indent} and {@code t_max_predict_ms}).
 * Absent fields keep llama.cpp's defaults, as llama-server does.
 */
final class SamplingFields {
    private SamplingFields() {}

    /**
     * Reads the fields of {@code j}; {@code max_completion_tokens} wins over {@code max_tokens}, which wins over
     * llama-server's {@code n_predict}; without any the generation runs to its end or the slot's context.
     *
     * @param topLogprobs how many alternatives to report per token (0: only the token's own logprob)
     */
    static GenerationParams read(Json j, int topLogprobs, int vocab) {
        if (j.integer("n", Integer.MIN_VALUE, Integer.MAX_VALUE, 1) != 1) {
            throw ApiException.badField("n", "'n' must be 1: one choice per request (send several requests for more)");
        }
        GenerationParams p = GenerationParams.defaults();
        long max = j.integer("max_completion_tokens", 1, Integer.MAX_VALUE,
                j.integer("max_tokens", 1, Integer.MAX_VALUE, j.integer("n_predict", -1, Integer.MAX_VALUE, -1)));
        p = p.withMaxTokens((int) max);
        p = llamaCppFields(j, p);
        if (j.has("seed")) {
            p = p.withSeed(j.integer("seed", Long.MIN_VALUE, Long.MAX_VALUE, 0));
        }
        p = p.withStop(j.strings("stop"));
        p = p.withIgnoreEos(j.bool("ignore_eos", false));
        p = p.withLogitBias(logitBias(j, vocab));
        GenerationParams.Dry dry = p.dry();
        GenerationParams.Xtc xtc = p.xtc();
        p = p.toBuilder()
                .dry(new GenerationParams.Dry((float) j.number("dry_multiplier", 0, Float.MAX_VALUE, dry.multiplier()),
                        (float) j.number("dry_base", 0, Float.MAX_VALUE, dry.base()),
                        (int) j.integer("dry_allowed_length", 0, Integer.MAX_VALUE, dry.allowedLength()),
                        (int) j.integer("dry_penalty_last_n", -1, Integer.MAX_VALUE, dry.penaltyLastN()),
                        j.has("dry_sequence_breakers") ? j.strings("dry_sequence_breakers") : dry.sequenceBreakers()))
                .xtc((float) j.number("xtc_probability", 0, 1, xtc.probability()),
                        (float) j.number("xtc_threshold", 0, Float.MAX_VALUE, xtc.threshold()))
                .build();
        if (j.has("n_keep")) {
            // llama-server's n_keep: tokens a context shift keeps at the start (-1: the whole prompt is not offered)
            p = p.withContextShift(p.contextShift().keeping((int) j.integer("n_keep", 0, Integer.MAX_VALUE, 0)));
        }
        p = p.toBuilder()
                .minIndent((int) j.integer("n_indent", 0, Integer.MAX_VALUE, 0))
                .maxPredictMillis(j.integer("t_max_predict_ms", 0, Integer.MAX_VALUE, 0))
                .build();
        return p.withTopLogprobs(topLogprobs);
    }

    /**
     * The fields named as llama.cpp names its sampling parameters, which OpenAI's requests (as llama-server
     * extends them) and ollama's {@code options} share: {@code temperature}, {@code top_p}, {@code top_k},
     * {@code min_p}, {@code presence_penalty}, {@code frequency_penalty}, {@code repeat_penalty},
     * {@code repeat_last_n}, {@code typical_p} and the three mirostat fields; absent ones keep {@code p}'s.
     */
    static GenerationParams llamaCppFields(Json j, GenerationParams p) {
        p = p.withTemperature((float) j.number("temperature", 0, 2, p.temperature()));
        p = p.withTopP((float) j.number("top_p", Double.MIN_VALUE, 1, p.topP()));
        p = p.withTopK((int) j.integer("top_k", 0, Integer.MAX_VALUE, p.topK()));
        p = p.withMinP((float) j.number("min_p", 0, 1, p.minP()));
        p = p.withPresencePenalty((float) j.number("presence_penalty", -2, 2, 0));
        p = p.withFrequencyPenalty((float) j.number("frequency_penalty", -2, 2, 0));
        p = p.withRepeatPenalty((float) j.number("repeat_penalty", Double.MIN_VALUE, 10, p.repeatPenalty()),
                (int) j.integer("repeat_last_n", -1, Integer.MAX_VALUE, p.repeatLastN()));
        GenerationParams.Mirostat ms = p.mirostat();
        return p.toBuilder()
                .typicalP((float) j.number("typical_p", Double.MIN_VALUE, Float.MAX_VALUE, p.typicalP()))
                .mirostat((int) j.integer("mirostat", 0, 2, ms.version()),
                        (float) j.number("mirostat_tau", 0, Float.MAX_VALUE, ms.tau()),
                        (float) j.number("mirostat_eta", 0, Float.MAX_VALUE, ms.eta()))
                .build();
    }

    /** OpenAI's {@code logit_bias}: token ids (as strings) to a bias in [-100, 100]; -100 in effect bans the token. */
    private static java.util.Map<Integer, Float> logitBias(Json j, int vocab) {
        Json bias = j.object("logit_bias");
        java.util.Map<Integer, Float> out = new java.util.HashMap<>();
        if (bias == null) {
            return out;
        }
        for (String key : bias.fieldNames()) {
            int id;
            try {
                id = Integer.parseInt(key);
            } catch (NumberFormatException e) {
                throw ApiException.badField("logit_bias", "'logit_bias' keys must be token ids, not '" + key + "'");
            }
            if (id < 0 || id >= vocab) {
                throw ApiException.badField("logit_bias", "'logit_bias' names token " + id + ", outside the vocabulary of " + vocab);
            }
            out.put(id, (float) bias.number(key, -100, 100, 0));
        }
        return out;
    }
}
