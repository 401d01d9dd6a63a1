package dev.vellama.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.vellama.runtime.LoraAdapter;
import dev.vellama.runtime.Model;
import picocli.CommandLine.Option;

/** llama.cpp's LoRA adapter options, for the commands that generate and for the server. */
final class LoraOptions {
    @Option(names = "--lora", paramLabel = "FILE[,FILE...]",
            description = "Apply LoRA adapters (llama.cpp's GGUF adapters) at scale 1; repeatable, the adapters add up.")
    List<String> adapters = new ArrayList<>();

    @Option(names = "--lora-scaled", paramLabel = "FILE:SCALE[,...]",
            description = "LoRA adapters at their SCALEs, as llama.cpp writes them; repeatable.")
    List<String> scaledAdapters = new ArrayList<>();

    /** The adapters the options name, loaded for {@code model}, in the order given; close them after use. */
    Loaded load(Model model) throws IOException {
        Loaded loaded = new Loaded(new ArrayList<>());
        try {
            for (String list : adapters) {
                for (String f : list.split(",")) {
                    loaded.applied.add(new LoraAdapter.Applied(LoraAdapter.load(model, Path.of(f)), 1f));
                }
            }
            for (String list : scaledAdapters) {
                for (String spec : list.split(",")) {
                    ScaledFile f = ScaledFile.parse("--lora-scaled", spec, "adapter.gguf:0.5");
                    loaded.applied.add(new LoraAdapter.Applied(LoraAdapter.load(model, f.file()), f.scale()));
                }
            }
        } catch (IOException | RuntimeException e) {
            loaded.close();
            throw e;
        }
        return loaded;
    }

    /** Adapters loaded for a run, with their scales; closing unmaps their files. */
    record Loaded(List<LoraAdapter.Applied> applied) implements AutoCloseable {
        boolean any() {
            return !applied.isEmpty();
        }

        @Override
        public void close() {
            applied.forEach(a -> a.adapter().close());
        }
    }
}
