package dev.vellama.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vellama.runtime.ActivationPoint;
import dev.vellama.runtime.ContrastiveActivations;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.NeuronScore;
import dev.vellama.runtime.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vellama neurons}: the neurons whose mean activation over a text tells two sets of texts apart best, and
 * the steering vector between the sets.
 */
@Command(name = "neurons", mixinStandardHelpOptions = true,
        description = "Rank neurons by how well they separate two sets of texts (one per line); optionally write the"
                + " difference of the sets' mean residuals as a control vector.")
final class NeuronsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--pos", required = true, paramLabel = "FILE", description = "The positive texts, one per line.")
    Path positive;

    @Option(names = "--neg", required = true, paramLabel = "FILE", description = "The negative texts, one per line.")
    Path negative;

    @Option(names = "--point", paramLabel = "NAME", defaultValue = "ffn_act",
            description = "Where the neurons are read: attn_norm, attn_out, ffn_norm, ffn_act, ffn_out or residual (default: ${DEFAULT-VALUE}).")
    String point;

    @Option(names = "--layer", paramLabel = "L", defaultValue = "-1", description = "Only this layer (default: every layer).")
    int layer;

    @Option(names = "--top", paramLabel = "N", defaultValue = "10", description = "How many neurons to print (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(names = "--steering-vector", paramLabel = "FILE",
            description = "Write the difference of the positive and negative mean residuals, per layer, as a control vector GGUF.")
    Path steeringVector;

    @Option(names = "--json", description = "Print {\"neurons\":[{\"layer\",\"neuron\",\"accuracy\",\"effect_size\",\"mean_positive\",\"mean_negative\"}...]}.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ActivationPoint at = ActivationPoint.parse(point);
        if (top < 1) {
            throw new IllegalArgumentException("--top must be 1 or more");
        }
        List<String> pos = lines(positive);
        List<String> neg = lines(negative);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try (Model model = Model.load(modelOptions.model(err));
             Session session = model.newSession(modelOptions.sessionOptions(model))) {
            if (layer < -1 || layer >= model.config().layerCount()) {
                throw new IllegalArgumentException("--layer " + layer + ": the model has layers 0 to " + (model.config().layerCount() - 1));
            }
            long t0 = System.nanoTime();
            ContrastiveActivations a = ContrastiveActivations.collect(session, at, pos, neg);
            err.printf(Locale.ROOT, "%d positive and %d negative texts evaluated in %.2f s%n", pos.size(), neg.size(), (System.nanoTime() - t0) / 1e9);
            List<NeuronScore> best = a.rank(layer, top);
            if (json) {
                ObjectMapper mapper = new ObjectMapper();
                ObjectNode doc = mapper.createObjectNode();
                doc.put("point", at.label());
                ArrayNode list = doc.putArray("neurons");
                for (NeuronScore s : best) {
                    list.addObject().put("layer", s.layer()).put("neuron", s.neuron()).put("accuracy", s.accuracy())
                            .put("effect_size", s.effectSize()).put("mean_positive", s.meanPositive()).put("mean_negative", s.meanNegative());
                }
                out.println(mapper.writeValueAsString(doc));
            } else {
                out.printf("%5s %7s %8s %8s %10s %10s%n", "layer", "neuron", "accuracy", "effect", "mean(pos)", "mean(neg)");
                for (NeuronScore s : best) {
                    out.printf(Locale.ROOT, "%5d %7d %8.3f %8.3f %10.4f %10.4f%n", s.layer(), s.neuron(), s.accuracy(),
                            s.effectSize(), s.meanPositive(), s.meanNegative());
                }
            }
            if (steeringVector != null) {
                a.steeringVector().write(steeringVector, model.config().architecture().ggufName());
                err.println("steering vector written to " + steeringVector);
            }
        }
        return 0;
    }

    private static List<String> lines(Path file) throws java.io.IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
