package dev.vellama.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

import dev.vellama.cli.hub.ModelCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code vellama list}: the pulled models, as ollama's list. */
@Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true, description = "List the models in the cache.")
final class ListCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ModelCache cache = HubModels.cache();
        List<ModelCache.Entry> entries = cache.list().stream().sorted(ModelCache.order()).toList();
        PrintWriter out = spec.commandLine().getOut();
        if (entries.isEmpty()) {
            spec.commandLine().getErr().println("no models in " + cache.root() + " (vellama pull hf:ORG/REPO:QUANT adds one)");
            return 0;
        }
        int width = entries.stream().mapToInt(e -> e.reference().toString().length()).max().orElse(0);
        int fileWidth = entries.stream().mapToInt(e -> e.file().length()).max().orElse(0);
        out.printf("%-" + width + "s  %-" + fileWidth + "s  %10s%n", "NAME", "FILE", "SIZE");
        for (ModelCache.Entry e : entries) {
            out.printf("%-" + width + "s  %-" + fileWidth + "s  %10s%n", e.reference(), e.file(), HubModels.mib(e.size()));
        }
        return 0;
    }
}
