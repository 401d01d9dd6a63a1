package dev.vellama.cli;

import java.util.ArrayList;
import java.util.List;

import dev.vellama.runtime.GenerationParams;
import picocli.CommandLine.Option;

/** llama.cpp's sampling options, with its defaults. */
final class SamplingOptions {
    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1",
            description = "New tokens at most (default: -1, until end of generation or a full context).")
    int maxTokens;

    @Option(names = "--temp", paramLabel = "T", defaultValue = "0.8", description = "Temperature; 0 = greedy (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40", description = "Top-k; 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--top-p", paramLabel = "P", defaultValue = "0.95", description = "Top-p; 1 = off (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--min-p", paramLabel = "P", defaultValue = "0.05", description = "Min-p; 0 = off (default: ${DEFAULT-VALUE}).")
    float minP;

    @Option(names = "--repeat-penalty", paramLabel = "R", defaultValue = "1.0", description = "Repetition penalty; 1 = off (default: ${DEFAULT-VALUE}).")
    float repeatPenalty;

    @Option(names = "--repeat-last-n", paramLabel = "N", defaultValue = "64",
            description = "Tokens the penalties look back over; -1 = whole context (default: ${DEFAULT-VALUE}).")
    int repeatLastN;

    @Option(names = "--frequency-penalty", paramLabel = "F", defaultValue = "0", description = "Frequency penalty (default: ${DEFAULT-VALUE}).")
    float frequencyPenalty;

    @Option(names = "--presence-penalty", paramLabel = "P", defaultValue = "0", description = "Presence penalty (default: ${DEFAULT-VALUE}).")
    float presencePenalty;

    @Option(names = {"-s", "--seed"}, paramLabel = "S", description = "Seed of the random draw (default: random).")
    Long seed;

    @Option(names = {"--stop", "-r", "--reverse-prompt"}, paramLabel = "TEXT", description = "Stop when this text appears (repeatable).")
    List<String> stop = new ArrayList<>();

    @Option(names = "--ignore-eos", description = "Never end at an end-of-generation token (they are not sampled).")
    boolean ignoreEos;

    @Option(names = {"-l", "--logit-bias"}, paramLabel = "ID(+|-)BIAS",
            description = "Add BIAS to token ID's logit, as llama.cpp: 15043+1, 15043-0.5, 15043-inf bans it (repeatable).")
    List<String> logitBias = new ArrayList<>();

    @Option(names = "--grammar", paramLabel = "GBNF", description = "Constrain the output to this GBNF grammar (llama.cpp's format).")
    String grammar;

    @Option(names = "--grammar-file", paramLabel = "FILE", description = "Read the GBNF grammar from a file.")
    java.nio.file.Path grammarFile;

    @Option(names = {"-j", "--json-schema"}, paramLabel = "SCHEMA",
            description = "Constrain the output to JSON this JSON Schema allows; {} for any JSON object.")
    String jsonSchema;

    @Option(names = {"-jf", "--json-schema-file"}, paramLabel = "FILE", description = "Read the JSON Schema from a file.")
    java.nio.file.Path jsonSchemaFile;

    @Option(names = "--typical", paramLabel = "P", defaultValue = "1.0", description = "Locally typical sampling; 1 = off (default: ${DEFAULT-VALUE}).")
    float typicalP;

    @Option(names = "--mirostat", paramLabel = "N", defaultValue = "0",
            description = "Mirostat: 0 = off, 1 = Mirostat, 2 = Mirostat 2.0; replaces top-k/p, min-p, typical, XTC, penalties and DRY (default: ${DEFAULT-VALUE}).")
    int mirostat;

    @Option(names = "--mirostat-lr", paramLabel = "ETA", defaultValue = "0.1", description = "Mirostat learning rate (default: ${DEFAULT-VALUE}).")
    float mirostatEta;

    @Option(names = "--mirostat-ent", paramLabel = "TAU", defaultValue = "5.0", description = "Mirostat target entropy (default: ${DEFAULT-VALUE}).")
    float mirostatTau;

    @Option(names = "--dry-multiplier", paramLabel = "M", defaultValue = "0.0", description = "DRY repetition penalty; 0 = off (default: ${DEFAULT-VALUE}).")
    float dryMultiplier;

    @Option(names = "--dry-base", paramLabel = "B", defaultValue = "1.75", description = "DRY base (default: ${DEFAULT-VALUE}).")
    float dryBase;

    @Option(names = "--dry-allowed-length", paramLabel = "N", defaultValue = "2",
            description = "Repetitions longer than this are penalised by DRY (default: ${DEFAULT-VALUE}).")
    int dryAllowedLength;

    @Option(names = "--dry-penalty-last-n", paramLabel = "N", defaultValue = "-1",
            description = "Tokens DRY looks back over; -1 = whole context, 0 = off (default: ${DEFAULT-VALUE}).")
    int dryPenaltyLastN;

    @Option(names = "--dry-sequence-breaker", paramLabel = "TEXT",
            description = "A text DRY repetitions cannot cross (repeatable; replaces the defaults \\n : \" *; 'none' for none).")
    List<String> dryBreakers = new ArrayList<>();

    @Option(names = "--xtc-probability", paramLabel = "P", defaultValue = "0.0", description = "XTC chance per token; 0 = off (default: ${DEFAULT-VALUE}).")
    float xtcProbability;

    @Option(names = "--xtc-threshold", paramLabel = "T", defaultValue = "0.1",
            description = "XTC removes choices at least this likely but the last; above 0.5 = off (default: ${DEFAULT-VALUE}).")
    float xtcThreshold;

    /** llama.cpp's TOKEN_ID(+/-)BIAS. */
    static java.util.Map<Integer, Float> parseLogitBias(List<String> specs) {
        java.util.Map<Integer, Float> bias = new java.util.HashMap<>();
        for (String spec : specs) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)([+-])(inf|[0-9]*\\.?[0-9]+)").matcher(spec.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("--logit-bias takes TOKEN_ID(+|-)BIAS, such as 15043+1 or 15043-inf, not '" + spec + "'");
            }
            float value = m.group(3).equals("inf") ? Float.POSITIVE_INFINITY : Float.parseFloat(m.group(3));
            bias.put(Integer.parseInt(m.group(1)), m.group(2).equals("-") ? -value : value);
        }
        return bias;
    }

    GenerationParams params() {
        if (maxTokens < -1) {
            throw new IllegalArgumentException("-n must be -1 (until the end or a full context) or more, not " + maxTokens);
        }
        if (repeatLastN < -1) {
            throw new IllegalArgumentException("--repeat-last-n must be -1 (the whole context) or more, not " + repeatLastN);
        }
        if (topP <= 0 || topP > 1 || minP < 0 || minP > 1) {
            throw new IllegalArgumentException("--top-p must lie in (0, 1] and --min-p in [0, 1]");
        }
        if (repeatPenalty <= 0) {
            throw new IllegalArgumentException("--repeat-penalty must be positive (1 = off)");
        }
        if (mirostat < 0 || mirostat > 2) {
            throw new IllegalArgumentException("--mirostat must be 0 (off), 1 or 2, not " + mirostat);
        }
        if (typicalP <= 0) {
            throw new IllegalArgumentException("--typical must be above 0 (1 = off), not " + typicalP);
        }
        if (dryMultiplier < 0 || dryBase < 0 || dryAllowedLength < 0 || dryPenaltyLastN < -1) {
            throw new IllegalArgumentException("--dry-multiplier, --dry-base and --dry-allowed-length must not be negative,"
                    + " --dry-penalty-last-n not below -1");
        }
        if (xtcProbability < 0 || xtcProbability > 1 || xtcThreshold < 0) {
            throw new IllegalArgumentException("--xtc-probability must lie in [0, 1] and --xtc-threshold not be negative");
        }
        List<String> breakers = dryBreakers.isEmpty() ? GenerationParams.Dry.OFF.sequenceBreakers()
                : dryBreakers.equals(List.of("none")) ? List.of() : dryBreakers.stream().map(Escapes::expand).toList();
        // llama.cpp's meanings: a temperature at or below 0 is greedy, a top-k at or below 0 is off
        return GenerationParams.builder().maxTokens(maxTokens).temperature(temperature).topK(Math.max(0, topK)).topP(topP)
                .minP(minP).repeatPenalty(repeatPenalty).repeatLastN(repeatLastN).frequencyPenalty(frequencyPenalty)
                .presencePenalty(presencePenalty).seed(seed).stop(stop).ignoreEos(ignoreEos)
                .logitBias(parseLogitBias(logitBias)).typicalP(typicalP).mirostat(mirostat, mirostatTau, mirostatEta)
                .dry(new GenerationParams.Dry(dryMultiplier, dryBase, dryAllowedLength, dryPenaltyLastN, breakers))
                .xtc(xtcProbability, xtcThreshold).grammar(grammar()).build();
    }

    /** {@code --grammar}, {@code --grammar-file}, {@code --json-schema} or {@code --json-schema-file}, parsed; null without any. */
    private dev.vellama.runtime.grammar.Grammar grammar() {
        int given = (grammar != null ? 1 : 0) + (grammarFile != null ? 1 : 0) + (jsonSchema != null ? 1 : 0)
                + (jsonSchemaFile != null ? 1 : 0);
        if (given > 1) {
            throw new IllegalArgumentException("give one of --grammar, --grammar-file, --json-schema and --json-schema-file");
        }
        if (grammar != null || grammarFile != null) {
            return dev.vellama.runtime.grammar.Grammar.parse(grammarFile != null ? read(grammarFile, "grammar") : grammar);
        }
        if (jsonSchema != null || jsonSchemaFile != null) {
            String schema = jsonSchemaFile != null ? read(jsonSchemaFile, "JSON Schema") : jsonSchema;
            // llama.cpp's -j {} means any JSON object
            return schema.isBlank() || schema.strip().equals("{}") ? dev.vellama.runtime.grammar.Grammar.jsonObject()
                    : dev.vellama.runtime.grammar.Grammar.fromJsonSchema(schema);
        }
        return null;
    }

    private static String read(java.nio.file.Path file, String what) {
        try {
            return java.nio.file.Files.readString(file);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the " + what + " file " + file + ": " + e.getMessage());
        }
    }
}
