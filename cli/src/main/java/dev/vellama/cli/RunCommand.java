package dev.vellama.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.core.JsonGenerator;

import dev.vellama.runtime.GeneratedToken;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.TokenLogprob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code vellama run}: complete a prompt, streaming the text, like llama.cpp's completion. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Complete a prompt: streams the continuation, then prints prompt and generation speed to stderr.")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ContextShiftOptions contextShift;

    @Mixin
    SteeringOptions steering;

    @Mixin
    LoraOptions lora;

    @Mixin
    DraftOptions draft;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT",
            description = "The prompt (BOS added as the model says, special tokens parsed).")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the prompt from a UTF-8 file instead of -p.")
    java.nio.file.Path promptFile;

    @Option(names = "--no-display-prompt", description = "Print only the continuation, not the prompt before it.")
    boolean noDisplayPrompt;

    @Option(names = "--no-escape", description = "Take the prompt as written; by default \\n, \\t, \\xNN and the like are expanded, as llama.cpp does.")
    boolean noEscape;

    @Option(names = "--prompt-cache", paramLabel = "FILE",
            description = "Load the session saved in FILE when there is one (a prompt that starts the same is not read again),"
                    + " and save the session there once the prompt is read, as llama.cpp does.")
    java.nio.file.Path promptCache;

    @Option(names = "--prompt-cache-all", description = "With --prompt-cache: save the generated text too, at the end.")
    boolean promptCacheAll;

    @Option(names = "--prompt-cache-ro", description = "With --prompt-cache: load it, never write it.")
    boolean promptCacheReadOnly;

    @Option(names = "--json", description = "Print one JSON document (tokens, text, logprobs, stop reason, timings) instead of streaming.")
    boolean json;

    @Option(names = "--top-logprobs", paramLabel = "N", defaultValue = "0",
            description = "With --json: alternatives reported per generated token (default: ${DEFAULT-VALUE}).")
    int topLogprobs;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (topLogprobs < 0) {
            throw new IllegalArgumentException("--top-logprobs must not be negative");
        }
        if (topLogprobs > 0 && !json) {
            throw new IllegalArgumentException("--top-logprobs is reported in the JSON document: add --json");
        }
        if ((this.prompt == null) == (promptFile == null)) {
            throw new IllegalArgumentException("give the prompt with -p TEXT or -f FILE (one of them)");
        }
        GenerationParams params = sampling.params().withTopLogprobs(topLogprobs).withLogprobs(json);
        if (params.seed() == null) {
            // a seed the user can see and reuse, as llama.cpp prints its own
            params = params.withSeed(new java.util.SplittableRandom().nextLong() & 0xffffffffL);
        }
        String text = this.prompt != null ? this.prompt : java.nio.file.Files.readString(promptFile);
        String prompt = noEscape || promptFile != null ? text : Escapes.expand(text);
        java.nio.file.Path file = modelOptions.model(spec.commandLine().getErr());
        PrintWriter status = spec.commandLine().getErr();
        boolean terminal = Environment.stderrIsTerminal();
        if (terminal) { // a large model takes seconds to map and check: say so where a person watches
            status.printf("loading %s ...", file.getFileName());
            status.flush();
        }
        try (Model model = Model.load(file);
             Session session = model.newSession(modelOptions.sessionOptions(model));
             DraftOptions.Draft drafting = draft.apply(session, modelOptions.sessionOptions().threads())) {
            lora.apply(session);
            steering.apply(session);
            if (terminal) {
                status.print("\r" + " ".repeat(Math.min(79, 12 + file.getFileName().toString().length())) + "\r");
                status.flush();
            }
            if (promptCache != null && java.nio.file.Files.exists(promptCache)) {
                session.load(promptCache);
                err.printf("prompt cache: %d tokens loaded from %s%n", session.position(), promptCache);
                err.flush();
            }
            int[] promptTokens = session.tokenize(prompt);
            params = params.withContextShift(contextShift.forPrompt(promptTokens, model.tokenizer().bos()));
            if (json) {
                GenerationResult r = generate(session, promptTokens, params, null);
                printJson(r, params.seed(), model.tokenizer(), out);
                return 0;
            }
            if (!noDisplayPrompt) {
                out.print(prompt);
                out.flush();
            }
            GenerationResult r = generate(session, promptTokens, params, t -> {
                out.print(t.text());
                out.flush();
            });
            out.println();
            out.flush();
            // a fresh JVM: the prompt's speed includes compiling the kernels (`vellama bench` measures them warm)
            err.printf("%nprompt: %d tokens, %.2f tokens/s (JIT warm-up included) | generation: %d tokens, %.2f tokens/s"
                    + " | stop: %s | seed: %d%n",
                    r.timings().promptTokens(), r.timings().promptTokensPerSecond(),
                    r.timings().generatedTokens(), r.timings().generationTokensPerSecond(), r.stopReason().jsonName(),
                    params.seed());
            if (r.forgottenTokens() > 0) {
                err.printf("context shift: %d tokens forgotten, %d kept at the start%n", r.forgottenTokens(),
                        params.contextShift().keep());
            }
            DraftOptions.report(session, err);
            err.flush();
        }
        return 0;
    }

    /** The generation, saving the session to the prompt cache once the prompt is read (and at the end, if asked). */
    private GenerationResult generate(Session session, int[] prompt, GenerationParams params,
            java.util.function.Consumer<GeneratedToken> onToken) {
        if (promptCache == null && (promptCacheAll || promptCacheReadOnly)) {
            throw new IllegalArgumentException("--prompt-cache-all and --prompt-cache-ro go with --prompt-cache FILE");
        }
        boolean write = promptCache != null && !promptCacheReadOnly;
        dev.vellama.runtime.Generation g = session.stream(prompt, params);
        boolean first = true;
        while (g.hasNext()) {
            if (first && write && session.position() > 0) {
                session.save(promptCache); // the cache holds the prompt now; the first token is sampled, not yet seen
            }
            first = false;
            GeneratedToken t = g.next();
            if (onToken != null) {
                onToken.accept(t);
            }
        }
        if (write && promptCacheAll && session.position() > 0) {
            session.save(promptCache);
        }
        return g.result();
    }

    static void printJson(GenerationResult r, long seed, dev.vellama.runtime.tokenizer.Tokenizer tokenizer, PrintWriter out)
            throws IOException {
        try (JsonGenerator g = JsonOutput.open(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("prompt_tokens");
            for (int id : r.promptTokens()) {
                g.writeNumber(id);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("tokens");
            for (GeneratedToken t : r.tokens()) {
                g.writeNumber(t.id());
            }
            g.writeEndArray();
            g.writeStringField("text", r.text());
            g.writeArrayFieldStart("logprobs");
            for (GeneratedToken t : r.tokens()) {
                g.writeStartObject();
                g.writeNumberField("id", t.id());
                g.writeStringField("token", piece(tokenizer, t.id()));
                g.writeNumberField("logprob", t.logprob());
                g.writeArrayFieldStart("top_logprobs");
                for (TokenLogprob a : t.topLogprobs()) {
                    g.writeStartObject();
                    g.writeNumberField("id", a.id());
                    g.writeStringField("token", piece(tokenizer, a.id()));
                    g.writeNumberField("logprob", a.logprob());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("stop_reason", r.stopReason().jsonName());
            g.writeNumberField("seed", seed);
            g.writeObjectFieldStart("timings");
            g.writeNumberField("prompt_tokens_per_second", r.timings().promptTokensPerSecond());
            g.writeNumberField("generation_tokens_per_second", r.timings().generationTokensPerSecond());
            g.writeNumberField("prompt_tokens", r.timings().promptTokens());
            g.writeNumberField("generated_tokens", r.timings().generatedTokens());
            g.writeEndObject();
            g.writeEndObject();
        }
        out.println();
        out.flush();
    }

    /** A token's text as the tokenizer stores it (a piece of a UTF-8 character shows as U+FFFD). */
    private static String piece(dev.vellama.runtime.tokenizer.Tokenizer tokenizer, int id) {
        return new String(tokenizer.tokenBytes(id), java.nio.charset.StandardCharsets.UTF_8);
    }
}
