package dev.vellama.cli;

import java.util.List;
import java.util.concurrent.Callable;

import dev.vellama.cli.hub.HubException;
import dev.vellama.cli.hub.HubReference;
import dev.vellama.cli.hub.ModelCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code vellama rm hf:ORG/REPO[:QUANT]}: removes pulled models from the cache, as ollama's rm. */
@Command(name = "rm", mixinStandardHelpOptions = true,
        description = "Remove a model from the cache: one quantization, or every file of the repository without one.")
final class RmCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "hf:ORG/REPO[:QUANT]", arity = "1..*", description = "What to remove.")
    List<String> names;

    @Override
    public Integer call() throws Exception {
        ModelCache cache = HubModels.cache();
        for (String name : names) {
            HubReference ref = HubReference.parse(name);
            List<ModelCache.Entry> entries = cache.find(ref);
            if (entries.isEmpty()) {
                throw new HubException(ref + " is not in the cache (" + cache.root() + "); 'vellama list' shows what is");
            }
            cache.remove(entries);
            for (ModelCache.Entry e : entries) {
                spec.commandLine().getErr().printf("removed %s %s (%s)%n", ref.repository(), e.file(), HubModels.mib(e.size()));
            }
        }
        return 0;
    }
}
