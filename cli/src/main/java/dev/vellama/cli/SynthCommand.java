package dev.vellama.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import dev.vellama.gguf.GgufFile;
import dev.vellama.runtime.synth.ModelShape;
import dev.vellama.runtime.synth.SyntheticModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code vellama synth}: a GGUF shaped like a real model, with random weights, for offline benchmarks. The help lists
 * the shapes in lines short enough that none is wrapped (picocli would break a name after a dot); a test checks that
 * it names every one of {@link ModelShape#KNOWN}.
 */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a GGUF with the tensor shapes, types and metadata of a real model, random weights and a real vocabulary.",
                "Shapes:",
                "  llama-3.2-1b, llama-3.2-3b, llama-3.1-8b, llama-4-scout, smollm3-3b",
                "  qwen2.5-0.5b, qwen2.5-1.5b, qwen3-0.6b, qwen3-30b-a3b, qwen1.5-moe-a2.7b",
                "  qwen3.5-0.8b, qwen3.5-9b, qwen3.5-35b-a3b",
                "  gpt-oss-20b, glm-4.5-air",
                "  gemma-4-e2b, gemma-4-26b-a4b, gemma-4-31b, gemma-3n-e2b, gemma-3n-e4b"})
final class SynthCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--like", required = true, paramLabel = "SHAPE", description = "Model whose shape to copy, one of the shapes above.")
    String like;

    @Option(names = "--type", defaultValue = "Q4_0", paramLabel = "TYPE", description = "Q8_0, Q4_0, Q4_K_M or F16 (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = "--vocab-from", paramLabel = "FILE",
            description = "GGUF whose tokenizer to copy (default: the matching model under ../shared/models).")
    Path vocabFrom;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "File to write.")
    Path output;

    @Override
    public Integer call() throws IOException {
        ModelShape shape = ModelShape.named(like);
        SyntheticModel.FileType fileType = SyntheticModel.FileType.parse(type);
        Path vocab = vocabFrom != null ? vocabFrom : Path.of("..", "shared", "models", shape.tokenizerModel());
        long t0 = System.nanoTime();
        try (GgufFile source = GgufFile.open(vocab)) {
            SyntheticModel.write(shape, fileType, source.metadata(), seed, output);
        }
        spec.commandLine().getErr().printf("wrote %s (%s, %s) in %.1f s%n", output, shape.name(), fileType, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
