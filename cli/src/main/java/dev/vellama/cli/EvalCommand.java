package dev.vellama.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.Accuracy;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.MultipleChoice;
import dev.vellama.runtime.PromptClassification;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vellama eval}: accuracy of one or more models on multiple-choice tasks (scored as llama-perplexity's
 * {@code --hellaswag}) or on classification by prompting with k examples, with confidence intervals, a CSV and a
 * chart.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Accuracy on multiple-choice tasks (as llama-perplexity --hellaswag scores them) or on classification"
                + " by prompting with k examples, per model and k, with a 95%% interval; optionally a CSV and a chart.")
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file; repeatable.")
    List<Path> models;

    @Option(names = "--tasks", paramLabel = "FILE.jsonl",
            description = "One task per line: {\"context\",\"endings\":[...],\"label\":N} (multiple choice) or {\"text\",\"label\":\"WORD\"} (classification).")
    Path tasks;

    @Option(names = "--hellaswag", paramLabel = "FILE", description = "llama.cpp's HellaSwag file: six lines per task.")
    Path hellaswag;

    @Option(names = "--template", paramLabel = "TEXT", defaultValue = "{text}\\nAnswer:",
            description = "Classification prompt, {text} where the text goes; \\n is a newline (default: ${DEFAULT-VALUE}).")
    String template;

    @Option(names = "--labels", paramLabel = "A,B,...", split = ",",
            description = "Classification label words (default: the labels of the tasks, in order of appearance).")
    List<String> labels;

    @Option(names = "--shots", paramLabel = "K,K,...", split = ",", defaultValue = "0",
            description = "Classification examples per prompt, drawn from the other tasks (default: ${DEFAULT-VALUE}); e.g. 0,1,4,8.")
    List<Integer> shots;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of the examples' draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "2048", description = "Context per evaluation (default: ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Compute threads (default: all processors).")
    Integer threads;

    @Option(names = "--json", description = "Print {\"accuracy\":...,\"results\":[...]} instead of the table.")
    boolean json;

    @Option(names = "--csv", paramLabel = "FILE", description = "Write model,parameters,k,accuracy,ci_low,ci_high,right,total.")
    Path csv;

    @Option(names = "--chart", paramLabel = "FILE.svg|.png",
            description = "Draw accuracy against k (one model) or against model size (several models).")
    Path chart;

    /** One model's accuracy at one k. */
    record Result(String model, long parameters, int k, Accuracy accuracy) {
    }

    @Override
    public Integer call() throws Exception {
        if ((tasks == null) == (hellaswag == null)) {
            throw new IllegalArgumentException("give the tasks with --tasks FILE.jsonl or --hellaswag FILE");
        }
        if (chart != null && !chart.toString().endsWith(".svg") && !chart.toString().endsWith(".png")) {
            throw new IllegalArgumentException("--chart writes .svg or .png files, not " + chart.getFileName());
        }
        if (chart != null && ModuleLayer.boot().findModule("java.desktop").isEmpty()) {
            // the self-contained archive's runtime leaves out the AWT the charting library draws with
            throw new IllegalArgumentException("--chart needs a Java runtime with the java.desktop module (a JDK); this one has none");
        }
        List<MultipleChoice.Task> choices = new ArrayList<>();
        List<PromptClassification.Item> items = new ArrayList<>();
        if (hellaswag != null) {
            choices = MultipleChoice.parseHellaswag(read(hellaswag));
        } else {
            readJsonl(read(tasks), choices, items);
        }
        PromptClassification classification = null;
        if (!items.isEmpty()) {
            List<String> words = labels != null ? labels : List.copyOf(new LinkedHashSet<>(items.stream().map(PromptClassification.Item::label).toList()));
            classification = new PromptClassification(template.replace("\\n", "\n"), words);
            for (int k : shots) {
                if (k < 0 || k >= items.size()) {
                    throw new IllegalArgumentException("--shots " + k + ": between 0 and " + (items.size() - 1) + " (the other tasks)");
                }
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Result> results = new ArrayList<>();
        for (Path file : models) {
            try (Model model = Model.load(file);
                 Session session = model.newSession(SessionOptions.defaults().withContextSize(Math.min(ctx, model.config().contextLength()))
                         .withThreads(threads == null ? 0 : threads))) {
                String name = file.getFileName().toString();
                long t0 = System.nanoTime();
                if (classification == null) {
                    int right = 0;
                    for (MultipleChoice.Task t : choices) {
                        right += MultipleChoice.score(session, t).best() == t.label() ? 1 : 0;
                    }
                    results.add(new Result(name, model.parameterCount(), -1, new Accuracy(right, choices.size())));
                } else {
                    for (int k : shots) {
                        results.add(new Result(name, model.parameterCount(), k, classification.evaluate(session, items, k, seed)));
                    }
                }
                err.printf(Locale.ROOT, "%s: %d tasks in %.1f s%n", name, classification == null ? choices.size() : items.size() * shots.size(),
                        (System.nanoTime() - t0) / 1e9);
                err.flush();
            }
        }
        if (json) {
            printJson(out, results);
        } else {
            out.printf("%-32s %4s %9s  %-17s %7s%n", "model", "k", "accuracy", "95% interval", "tasks");
            for (Result r : results) {
                out.printf(Locale.ROOT, "%-32s %4s %9.4f  [%.4f, %.4f] %7d%n", r.model(), r.k() < 0 ? "-" : Integer.toString(r.k()),
                        r.accuracy().value(), r.accuracy().low(), r.accuracy().high(), r.accuracy().total());
            }
        }
        if (csv != null) {
            StringBuilder b = new StringBuilder("model,parameters,k,accuracy,ci_low,ci_high,right,total\n");
            for (Result r : results) {
                b.append(String.format(Locale.ROOT, "%s,%d,%s,%.6f,%.6f,%.6f,%d,%d%n", r.model(), r.parameters(), r.k() < 0 ? "" : r.k(),
                        r.accuracy().value(), r.accuracy().low(), r.accuracy().high(), r.accuracy().right(), r.accuracy().total()));
            }
            Files.writeString(csv, b.toString());
        }
        if (chart != null) {
            AccuracyChart.write(chart, results, models.size() > 1);
            err.println("chart written to " + chart);
        }
        return 0;
    }

    private static void printJson(PrintWriter out, List<Result> results) throws java.io.IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode doc = mapper.createObjectNode();
        doc.put("accuracy", results.get(0).accuracy().value());
        ArrayNode list = doc.putArray("results");
        for (Result r : results) {
            ObjectNode o = list.addObject().put("model", r.model()).put("parameters", r.parameters());
            if (r.k() >= 0) {
                o.put("k", r.k());
            }
            o.put("accuracy", r.accuracy().value()).put("ci_low", r.accuracy().low()).put("ci_high", r.accuracy().high())
                    .put("right", r.accuracy().right()).put("total", r.accuracy().total());
        }
        out.println(mapper.writeValueAsString(doc));
    }

    private static String read(Path file) throws java.io.IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    /** Each line a multiple-choice task or a classification item; one kind per file. */
    private static void readJsonl(String text, List<MultipleChoice.Task> choices, List<PromptClassification.Item> items) {
        ObjectMapper mapper = new ObjectMapper();
        int n = 0;
        for (String line : text.lines().toList()) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode o;
            try {
                o = mapper.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalArgumentException("line " + n + " is not JSON: " + e.getOriginalMessage());
            }
            if (o.has("endings") && o.get("endings").isArray() && o.path("context").isTextual() && o.path("label").canConvertToExactIntegral()) {
                List<String> endings = new ArrayList<>();
                o.get("endings").forEach(e -> endings.add(e.asText()));
                try {
                    choices.add(new MultipleChoice.Task(o.get("context").asText(), endings, o.get("label").asInt()));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("line " + n + ": " + e.getMessage());
                }
            } else if (o.path("text").isTextual() && o.path("label").isTextual()) {
                items.add(new PromptClassification.Item(o.get("text").asText(), o.get("label").asText()));
            } else {
                throw new IllegalArgumentException("line " + n + " is neither {\"context\",\"endings\",\"label\":N} nor {\"text\",\"label\":\"WORD\"}");
            }
            if (!choices.isEmpty() && !items.isEmpty()) {
                throw new IllegalArgumentException("line " + n + ": a file holds multiple-choice tasks or classification items, not both");
            }
        }
        if (choices.isEmpty() && items.isEmpty()) {
            throw new IllegalArgumentException("the task file has no tasks");
        }
    }
}
