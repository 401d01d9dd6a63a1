package dev.vellama.runtime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.vellama.runtime.grammar.Grammar;

/**
 * Decode speed with and without a JSON grammar, in one JVM and one session, alternating every round so the
 * machine's drift hits all alike (the first round is warm-up and not counted); then the grammar's own work per
 * token, replaying each constrained run's tokens through a {@link GrammarMask} that masks the whole vocabulary at
 * every step: the worst case, a model whose sampled token the grammar always refuses (a random-weight model nearly
 * is one). The grammars: JSON arrays of at least 300 values of any type, and of strings, from JSON Schemas (so no
 * generation ends before the limit), or GBNF files given. In this package for the package-private mask. Not a test.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     dev.vellama.runtime.GrammarDecodeBench MODEL.gguf [TOKENS=96] [ROUNDS=4] [GRAMMAR.gbnf...]
 * </pre>
 */
public final class GrammarDecodeBench {
    private GrammarDecodeBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: GrammarDecodeBench MODEL.gguf [TOKENS] [ROUNDS] [GRAMMAR.gbnf...]");
        }
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 96;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        Map<String, Grammar> grammars = new LinkedHashMap<>();
        grammars.put("none", null);
        if (args.length > 3) {
            for (int i = 3; i < args.length; i++) {
                grammars.put(Path.of(args[i]).getFileName().toString(), Grammar.parse(Files.readString(Path.of(args[i]))));
            }
        } else {
            grammars.put("json-values", Grammar.fromJsonSchema("{\"type\": \"array\", \"minItems\": 300, \"items\": "
                    + "{\"type\": [\"object\", \"array\", \"string\", \"number\", \"boolean\", \"null\"]}}"));
            grammars.put("json-strings", Grammar.fromJsonSchema("{\"type\": \"array\", \"minItems\": 300, \"items\": {\"type\": \"string\"}}"));
        }
        Map<String, List<Double>> speed = new LinkedHashMap<>();
        Map<String, List<Double>> work = new LinkedHashMap<>();
        try (Model model = Model.load(Path.of(args[0]));
             Session session = model.newSession(SessionOptions.defaults().withContextSize(tokens + 64).withThreads(2))) {
            int vocab = model.config().vocabSize();
            for (int round = 0; round < rounds; round++) {
                for (Map.Entry<String, Grammar> g : grammars.entrySet()) {
                    session.reset();
                    GenerationParams p = GenerationParams.defaults().withSeed((long) round + 1).withMaxTokens(tokens)
                            .withIgnoreEos(true);
                    GenerationResult r = session.generate("Give JSON:", g.getValue() == null ? p : p.withGrammar(g.getValue()), null);
                    double tps = r.timings().generationTokensPerSecond();
                    String line = String.format(Locale.ROOT, "round %d %-12s %6.2f t/s, %d tokens, %s", round, g.getKey(), tps,
                            r.tokens().size(), r.stopReason());
                    if (g.getValue() != null) {
                        double ms = grammarWork(g.getValue(), model, vocab, r.tokens());
                        line += String.format(Locale.ROOT, "; grammar work %.3f ms/token with every token masked", ms);
                        if (round > 0) {
                            work.computeIfAbsent(g.getKey(), k -> new ArrayList<>()).add(ms);
                        }
                    }
                    if (round > 0) {
                        speed.computeIfAbsent(g.getKey(), k -> new ArrayList<>()).add(tps);
                    }
                    System.out.println(line);
                }
            }
        }
        double base = mean(speed.get("none"));
        speed.forEach((k, v) -> System.out.printf(Locale.ROOT, "%-12s mean %6.2f t/s (%.3f× none) over %d rounds%n", k,
                mean(v), mean(v) / base, v.size()));
        work.forEach((k, v) -> System.out.printf(Locale.ROOT, "%-12s grammar work %.3f ms/token (%.1f%% of a token at %.2f t/s)%n",
                k, mean(v), mean(v) * base / 10, base));
    }

    /** Milliseconds per token to ask about, mask the vocabulary for, and accept each of {@code tokens}. */
    private static double grammarWork(Grammar grammar, Model model, int vocab, List<GeneratedToken> tokens) {
        float[] logits = new float[vocab];
        GrammarMask mask = new GrammarMask(grammar, model.tokenizer(), vocab);
        long start = System.nanoTime();
        int n = 0;
        for (GeneratedToken t : tokens) {
            if (t.id() < 0) {
                continue;
            }
            mask.allows(t.id());
            mask.mask(logits);
            mask.accept(t.id());
            n++;
        }
        return (System.nanoTime() - start) / 1e6 / Math.max(1, n);
    }

    private static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
