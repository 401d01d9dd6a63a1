package dev.vellama.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.vellama.runtime.LoraAdapter;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import picocli.CommandLine.Option;

/** llama.cpp's LoRA adapter options, for the commands that generate and for the server. */
final class LoraOptions {
    @Option(names = "--lora", paramLabel = "FILE[,FILE...]",
            description = "Apply LoRA adapters (llama.cpp's GGUF adapters) at scale 1; repeatable, the adapters add up.")
    List<String> adapters = new ArrayList<>();

    @Option(names = "--lora-scaled", paramLabel = "FILE:SCALE[,...]",
            description = "LoRA adapters at their SCALEs, as llama.cpp writes them; repeatable.")
    List<String> scaledAdapters = new ArrayList<>();

    /** The adapters the options name, loaded for {@code model}, in the order given. */
    List<LoraAdapter.Applied> load(Model model) throws IOException {
        List<LoraAdapter.Applied> applied = new ArrayList<>();
        for (String list : adapters) {
            for (String f : list.split(",")) {
                applied.add(new LoraAdapter.Applied(LoraAdapter.load(model, Path.of(f)), 1f));
            }
        }
        for (String list : scaledAdapters) {
            for (String spec : list.split(",")) {
                ScaledFile f = ScaledFile.parse("--lora-scaled", spec, "adapter.gguf:0.5");
                applied.add(new LoraAdapter.Applied(LoraAdapter.load(model, f.file()), f.scale()));
            }
        }
        return applied;
    }

    /** Loads the adapters the options name and applies them to {@code session}, before anything is evaluated. */
    void apply(Session session) throws IOException {
        List<LoraAdapter.Applied> applied = load(session.model());
        if (!applied.isEmpty()) {
            session.useAdapters(applied);
        }
    }
}
