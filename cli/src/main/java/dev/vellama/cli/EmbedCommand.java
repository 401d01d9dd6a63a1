package dev.vellama.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

import dev.vellama.runtime.Embeddings;
import dev.vellama.runtime.Model;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vellama embed}: llama-embedding's input (one text per line, or per separator) and outputs: its default
 * lines with a cosine-similarity matrix, or {@code --embd-output-format json|json+|array}.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = "Embeddings of texts (one per line), as llama-embedding prints them.")
final class EmbedCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
    Path model;

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "The texts, one per line (or per --embd-separator).")
    String prompt;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the texts from a file.")
    Path file;

    @Option(names = "--embd-separator", paramLabel = "S", defaultValue = "\n", description = "What separates the texts (default: a newline).")
    String separator;

    @Option(names = "--embd-output-format", paramLabel = "FORMAT", defaultValue = "",
            description = "json (OpenAI style), json+ (with the cosine similarity matrix), array ([[...],...]); default: llama-embedding's lines.")
    String format;

    @Option(names = "--pooling", paramLabel = "mean|cls|last|rank", description = "Pooling (default: the model's, else mean); "
            + "rank scores query-document pairs with a reranker's classification head.")
    String pooling;

    @Option(names = "--cls-separator", paramLabel = "S", defaultValue = "\t",
            description = "With --pooling rank: what separates each text's query from its document (default: a tab).")
    String clsSeparator;

    @Option(names = "--embd-normalize", paramLabel = "N", defaultValue = "2",
            description = "-1 none, 0 max absolute in int16 range, 1 taxicab, 2 Euclidean (default), p > 2 p-norm.")
    int normalize;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Compute threads (default: all processors).")
    Integer threads;

    @Override
    public Integer call() throws Exception {
        if ((prompt == null) == (file == null)) {
            throw new IllegalArgumentException("give the texts with -p TEXT or -f FILE");
        }
        if (!List.of("", "json", "json+", "array").contains(format)) {
            throw new IllegalArgumentException("--embd-output-format must be json, json+ or array, not '" + format + "'");
        }
        String text;
        try {
            text = prompt != null ? prompt : Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + file);
        }
        String sep = separator.replace("\\n", "\n");
        List<String> texts = new ArrayList<>(List.of(text.split(Pattern.quote(sep), -1)));
        if (texts.size() > 1 && texts.get(texts.size() - 1).isEmpty()) {
            texts.remove(texts.size() - 1); // a final separator ends the last text, as in a file's last line
        }
        boolean rank = "rank".equalsIgnoreCase(pooling);
        Embeddings.Options options = Embeddings.Options.defaults().withNormalize(normalize);
        if (pooling != null && !rank) {
            options = options.withPooling(Embeddings.Pooling.parse(pooling));
        }
        if (threads != null) {
            options = options.withThreads(threads);
        }
        float[][] v;
        boolean encoder;
        try (dev.vellama.gguf.GgufFile f = dev.vellama.gguf.GgufFile.open(model)) {
            encoder = dev.vellama.runtime.EncoderModel.isEncoder(f);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + model);
        }
        if (rank && !encoder) {
            throw new IllegalArgumentException("--pooling rank needs a reranker (a BERT-family model with a classification head)");
        }
        if (encoder) { // BERT and its kin: an encoder of its own
            try (dev.vellama.runtime.EncoderModel m = dev.vellama.runtime.EncoderModel.load(model, options.threads())) {
                v = rank ? scores(m, texts) : m.embed(texts, options);
            }
        } else {
            try (Model m = Model.load(model)) {
                v = Embeddings.compute(m, texts, options);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        String number = normalize == 0 ? "%1.0f" : "%1.7f";
        if (format.isEmpty() && rank) {
            for (int j = 0; j < v.length; j++) {
                out.printf(Locale.ROOT, "rerank score %d: %8.3f%n", j, v[j][0]);
            }
        } else if (format.isEmpty()) {
            for (int j = 0; j < v.length; j++) {
                out.printf(Locale.ROOT, "embedding %d: ", j);
                int shown = v.length > 1 ? Math.min(16, v[j].length) : v[j].length;
                for (int i = 0; i < shown; i++) {
                    out.printf(Locale.ROOT, normalize == 0 ? "%6.0f " : "%9.6f ", v[j][i]);
                }
                out.println();
            }
            if (v.length > 1) {
                out.println();
                out.println("cosine similarity matrix:");
                out.println();
                for (String t : texts) {
                    out.printf(Locale.ROOT, "%6.6s ", t);
                }
                out.println();
                for (int i = 0; i < v.length; i++) {
                    for (int j = 0; j < v.length; j++) {
                        out.printf(Locale.ROOT, "%6.2f ", cosine(v[i], v[j]));
                    }
                    out.printf(Locale.ROOT, "%1.10s%n", texts.get(i));
                }
            }
        } else {
            boolean array = format.equals("array");
            out.print(array ? "[" : "{\n  \"object\": \"list\",\n  \"data\": [\n");
            for (int j = 0; j < v.length; j++) {
                if (!array) {
                    out.printf(Locale.ROOT, "    {\n      \"object\": \"embedding\",\n      \"index\": %d,\n      \"embedding\": ", j);
                }
                out.print("[");
                for (int i = 0; i < v[j].length; i++) {
                    out.printf(Locale.ROOT, number, v[j][i]);
                    out.print(i + 1 < v[j].length ? "," : "");
                }
                out.print(array ? "]" : "]\n    }");
                out.print(j + 1 < v.length ? (array ? "," : ",\n") : "");
            }
            out.print(array ? "]\n" : "\n  ]");
            if (format.equals("json+") && v.length > 1) {
                out.print(",\n  \"cosineSimilarity\": [\n");
                for (int i = 0; i < v.length; i++) {
                    out.print("    [");
                    for (int j = 0; j < v.length; j++) {
                        out.printf(Locale.ROOT, "%6.2f", cosine(v[i], v[j]));
                        out.print(j + 1 < v.length ? ", " : "");
                    }
                    out.print(" ]");
                    out.print(i + 1 < v.length ? ",\n" : "");
                }
                out.print("\n  ]");
            }
            if (!array) {
                out.print("\n}\n");
            }
        }
        out.flush();
        return 0;
    }

    /** Each text's query and document (split at --cls-separator) scored by the reranker: one value per text. */
    private float[][] scores(dev.vellama.runtime.EncoderModel m, List<String> texts) {
        if (!m.ranks()) {
            throw new IllegalArgumentException("--pooling rank needs a reranker: " + model + " has no classification head");
        }
        String sep = clsSeparator.replace("\\t", "\t");
        int[][] pairs = new int[texts.size()][];
        for (int i = 0; i < pairs.length; i++) {
            int at = texts.get(i).indexOf(sep);
            if (at < 0) {
                throw new IllegalArgumentException("text " + i + " has no query and document separated by --cls-separator");
            }
            pairs[i] = m.rerankPairs(texts.get(i).substring(0, at), List.of(texts.get(i).substring(at + sep.length())))[0];
        }
        float[] s = m.rankTokens(pairs);
        float[][] out = new float[s.length][];
        for (int i = 0; i < s.length; i++) {
            out[i] = new float[] {s[i]};
        }
        return out;
    }

    /** llama.cpp's common_embd_similarity_cos. */
    private static float cosine(float[] a, float[] b) {
        double sum = 0;
        double s1 = 0;
        double s2 = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
            s1 += a[i] * a[i];
            s2 += b[i] * b[i];
        }
        if (s1 == 0 || s2 == 0) {
            return s1 == 0 && s2 == 0 ? 1f : 0f;
        }
        return (float) (sum / (Math.sqrt(s1) * Math.sqrt(s2)));
    }
}
