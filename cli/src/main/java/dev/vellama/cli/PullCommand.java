package dev.vellama.cli;

import java.util.concurrent.Callable;

import dev.vellama.cli.hub.HubReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code vellama pull hf:ORG/REPO[:QUANT]}: a GGUF from the Hugging Face Hub into the cache, as ollama's pull. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a GGUF model from the Hugging Face Hub into the cache (resumes a broken download,"
                + " checks the SHA-256 the hub lists).",
                "HF_TOKEN: a token for private or gated repositories; HF_ENDPOINT: another hub; VELLAMA_CACHE: the cache folder."})
final class PullCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "hf:ORG/REPO[:QUANT]", description = "The repository, and the quantization to take"
            + " (default Q4_K_M, or the repository's only GGUF file).")
    String name;

    @Override
    public Integer call() throws Exception {
        HubReference ref = HubReference.parse(name);
        HubModels.pull(HubModels.cache(), ref, spec.commandLine().getErr(), true);
        return 0;
    }
}
