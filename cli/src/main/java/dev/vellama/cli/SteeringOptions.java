package dev.vellama.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.vellama.runtime.ControlVector;
import dev.vellama.runtime.Session;
import picocli.CommandLine.Option;

/** llama.cpp's control vector options and Vellama's neuron clamps, for the commands that generate. */
final class SteeringOptions {
    @Option(names = "--control-vector", paramLabel = "FILE",
            description = "Add a control vector (llama.cpp's cvector GGUF) to each layer's output; repeatable, the vectors add up.")
    List<Path> controlVectors = new ArrayList<>();

    @Option(names = "--control-vector-scaled", paramLabel = "FILE:SCALE",
            description = "A control vector multiplied by SCALE; repeatable.")
    List<String> scaledControlVectors = new ArrayList<>();

    @Option(names = "--control-vector-layer-range", arity = "2", paramLabel = "N",
            description = "The first and last layer the control vectors apply to (default: 1 and the layer count).")
    int[] layerRange;

    @Option(names = "--clamp", paramLabel = "L:I=V",
            description = "Fix neuron I of layer L's MLP activations (ffn_act) to V for every token; repeatable.")
    List<String> clamps = new ArrayList<>();

    /** Sets what the options ask for on {@code session}, before anything is evaluated. */
    void apply(Session session) {
        ControlVector sum = null;
        for (Path f : controlVectors) {
            sum = plus(sum, ControlVector.read(f, 1f));
        }
        for (String spec : scaledControlVectors) {
            ScaledFile f = ScaledFile.parse("--control-vector-scaled", spec, "cv.gguf:0.8");
            sum = plus(sum, ControlVector.read(f.file(), f.scale()));
        }
        if (layerRange != null && (layerRange[0] < 0 || layerRange[1] < layerRange[0])) {
            throw new IllegalArgumentException("--control-vector-layer-range takes a first and a last layer, first <= last");
        }
        if (sum != null) {
            int layers = session.model().config().layerCount();
            session.steer(sum, layerRange != null ? layerRange[0] : 1, layerRange != null ? layerRange[1] : layers);
        } else if (layerRange != null) {
            throw new IllegalArgumentException("--control-vector-layer-range without a control vector");
        }
        for (String spec : clamps) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+):(\\d+)=(.+)").matcher(spec);
            float value = Float.NaN;
            if (m.matches()) {
                try {
                    value = Float.parseFloat(m.group(3));
                } catch (NumberFormatException e) {
                    value = Float.NaN;
                }
            }
            if (Float.isNaN(value)) {
                throw new IllegalArgumentException("--clamp takes LAYER:NEURON=VALUE, such as 3:120=5.0, not '" + spec + "'");
            }
            session.clamp(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), value);
        }
    }

    private static ControlVector plus(ControlVector sum, ControlVector v) {
        return sum == null ? v : sum.plus(v);
    }
}
