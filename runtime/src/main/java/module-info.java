/**
 * Models, tokenizers, chat templates, sampling, sessions and the batch engine. The forward pass, the KV cache and
 * the CUDA backend are internal: {@code model} and {@code cuda} are open to Vellama's own command line only.
 */
module dev.vellama.runtime {
    requires transitive dev.vellama.quant;
    requires com.fasterxml.jackson.databind;

    exports dev.vellama.runtime;
    exports dev.vellama.runtime.chat;
    exports dev.vellama.runtime.tokenizer;
    exports dev.vellama.runtime.synth;
    exports dev.vellama.runtime.grammar;
    exports dev.vellama.runtime.cuda to dev.vellama.cli;
}
