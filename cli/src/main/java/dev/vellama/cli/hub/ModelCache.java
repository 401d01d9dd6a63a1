package dev.vellama.cli.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Where pulled models live: {@code $VELLAMA_CACHE}, else {@code $XDG_CACHE_HOME/vellama}, else the platform's
 * cache folder ({@code ~/.cache/vellama}, {@code ~/Library/Caches/vellama}, {@code %LOCALAPPDATA%\vellama}); a
 * model is {@code hf/ORG/REPO/FILE} under it, and a download in progress {@code FILE.part} beside it.
 */
public final class ModelCache {
    private final Path root;

    public ModelCache(Path root) {
        this.root = root;
    }

    /** The cache the environment names ({@code env} reads a variable, null when unset). */
    public static ModelCache fromEnvironment(UnaryOperator<String> env) {
        String own = env.apply("VELLAMA_CACHE");
        if (own != null && !own.isBlank()) {
            return new ModelCache(Path.of(own));
        }
        String xdg = env.apply("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return new ModelCache(Path.of(xdg, "vellama"));
        }
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String home = System.getProperty("user.home");
        if (os.contains("win") && env.apply("LOCALAPPDATA") != null) {
            return new ModelCache(Path.of(env.apply("LOCALAPPDATA"), "vellama"));
        }
        if (os.contains("mac")) {
            return new ModelCache(Path.of(home, "Library", "Caches", "vellama"));
        }
        return new ModelCache(Path.of(home, ".cache", "vellama"));
    }

    public Path root() {
        return root;
    }

    /** Where {@code file} of the reference's repository is kept. */
    public Path path(HubReference ref, String file) {
        Path p = repositoryFolder(ref).resolve(file).normalize();
        if (!p.startsWith(repositoryFolder(ref))) {
            throw new HubException("the hub named a file outside its repository: " + file);
        }
        return p;
    }

    private Path repositoryFolder(HubReference ref) {
        return root.resolve("hf").resolve(ref.org()).resolve(ref.repo());
    }

    /** A pulled model: its reference (with the file's quant left out), file name, path and size. */
    public record Entry(HubReference reference, String file, Path path, long size) {}

    /** Every complete model in the cache, by repository then file. */
    public List<Entry> list() throws IOException {
        Path hf = root.resolve("hf");
        List<Entry> out = new ArrayList<>();
        if (!Files.isDirectory(hf)) {
            return out;
        }
        try (Stream<Path> files = Files.walk(hf, 3)) {
            for (Path p : files.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().endsWith(".gguf"))
                    .sorted().toList()) {
                Path rel = hf.relativize(p);
                if (rel.getNameCount() != 3) {
                    continue;
                }
                out.add(new Entry(new HubReference(rel.getName(0).toString(), rel.getName(1).toString(), null),
                        rel.getName(2).toString(), p, Files.size(p)));
            }
        }
        return out;
    }

    /** The cached files of the reference's repository that its quant selects (all of them without one). */
    public List<Entry> find(HubReference ref) throws IOException {
        List<Entry> out = new ArrayList<>();
        for (Entry e : list()) {
            if (e.reference().repository().equalsIgnoreCase(ref.repository())
                    && (ref.quant() == null || Quants.names(e.file(), ref.quant()))) {
                out.add(e);
            }
        }
        return out;
    }

    /** Deletes the entries' files (and their partial downloads), then the folders left empty. */
    public void remove(List<Entry> entries) throws IOException {
        for (Entry e : entries) {
            Files.deleteIfExists(e.path());
            Files.deleteIfExists(e.path().resolveSibling(e.file() + ".part"));
            for (Path dir = e.path().getParent(); dir != null && dir.startsWith(root.resolve("hf"))
                    && !dir.equals(root.resolve("hf")); dir = dir.getParent()) {
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.findAny().isPresent()) {
                        break;
                    }
                }
                Files.delete(dir);
            }
        }
    }

    /** Sorting helper for callers that print entries. */
    public static Comparator<Entry> order() {
        return Comparator.comparing((Entry e) -> e.reference().repository()).thenComparing(Entry::file);
    }
}
