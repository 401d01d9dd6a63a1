package dev.vellama.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.vellama.cli.hub.HubReference;
import dev.vellama.cli.hub.HuggingFaceHub;
import dev.vellama.cli.hub.ModelCache;

/** Models by name for the commands: a cached file when there is one, else a pull from the hub into the cache. */
final class HubModels {
    private HubModels() {}

    static ModelCache cache() {
        return ModelCache.fromEnvironment(Environment.reader());
    }

    /** The local file of {@code ref}: from the cache without asking the hub, or pulled. */
    static Path resolve(HubReference ref, PrintWriter err) throws IOException {
        ModelCache cache = cache();
        Path cached = cached(cache, ref);
        return cached != null ? cached : pull(cache, ref, err, false);
    }

    /** The cached file the reference selects: its quant's, or without one Q4_K_M or the repository's only file. */
    static Path cached(ModelCache cache, HubReference ref) throws IOException {
        List<ModelCache.Entry> hits = cache.find(ref);
        if (ref.quant() == null) {
            List<ModelCache.Entry> q4 = cache.find(new HubReference(ref.org(), ref.repo(), "Q4_K_M"));
            hits = q4.isEmpty() ? hits : q4;
        }
        return hits.size() == 1 ? hits.getFirst().path() : null;
    }

    /**
     * Asks the hub which file the reference names and downloads it unless the cache has it whole; with
     * {@code always} it asks even when the cache could answer (the pull command).
     */
    static Path pull(ModelCache cache, HubReference ref, PrintWriter err, boolean always) throws IOException {
        HuggingFaceHub hub = HuggingFaceHub.fromEnvironment(Environment.reader());
        HuggingFaceHub.RemoteFile file = HuggingFaceHub.choose(ref, hub.ggufFiles(ref));
        String name = HuggingFaceHub.fileName(file.path());
        Path target = cache.path(ref, name);
        if (Files.isRegularFile(target) && (file.size() <= 0 || Files.size(target) == file.size())) {
            err.printf("%s: %s is in the cache (%s)%n", ref, name, target);
            err.flush();
            return target;
        }
        err.printf("pulling %s: %s (%s)%n", ref, name, mib(file.size()));
        err.flush();
        long start = System.nanoTime();
        ProgressBar bar = new ProgressBar(err, Environment.stderrIsTerminal());
        hub.download(ref, file, target, bar::update);
        bar.finish();
        double s = (System.nanoTime() - start) / 1e9;
        err.printf("pulled %s in %.1f s%s, to %s%n", name, s, file.sha256() != null ? ", SHA-256 checked" : "", target);
        err.flush();
        return target;
    }

    static String mib(long bytes) {
        return bytes < 0 ? "size unknown" : String.format("%.1f MiB", bytes / 1048576.0);
    }

    /** A one-line bar redrawn in place on a terminal, at most ten times a second; nothing elsewhere. */
    static final class ProgressBar {
        private final PrintWriter err;
        private final boolean terminal;
        private final long start = System.nanoTime();
        private long lastDraw;
        private boolean drawn;

        ProgressBar(PrintWriter err, boolean terminal) {
            this.err = err;
            this.terminal = terminal;
        }

        void update(long done, long total) {
            long now = System.nanoTime();
            if (!terminal || now - lastDraw < 100_000_000L) {
                return;
            }
            lastDraw = now;
            double s = (now - start) / 1e9;
            int pct = total > 0 ? (int) (100 * done / total) : 0;
            int width = 30;
            int filled = total > 0 ? (int) (width * done / total) : 0;
            err.printf("\r  [%s%s] %3d%% %s of %s, %.1f MiB/s  ", "#".repeat(filled), " ".repeat(width - filled), pct,
                    mib(done), mib(total), done / 1048576.0 / Math.max(s, 1e-3));
            err.flush();
            drawn = true;
        }

        void finish() {
            if (drawn) {
                err.print("\r" + " ".repeat(79) + "\r");
                err.flush();
            }
        }
    }
}
