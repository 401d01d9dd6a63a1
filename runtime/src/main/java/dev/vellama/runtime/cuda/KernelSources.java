package dev.vellama.runtime.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The PTX of the CUDA kernels shipped in the jar ({@value #RESOURCE}) and the fingerprint of the {@code .cu}
 * sources it was compiled from. {@code scripts/build-ptx.sh} writes that fingerprint as the first line of the PTX;
 * {@link #hashSources} recomputes it the same way: for each {@code .cu}/{@code .cuh} file in byte order of its name,
 * the name, a newline, then the file's bytes, all through SHA-256.
 */
public final class KernelSources {
    public static final String RESOURCE = "/dev/vellama/runtime/cuda/kernels.ptx";
    static final String HASH_PREFIX = "// vellama-sources-sha256: ";

    private KernelSources() {}

    /** The PTX text from the class path. */
    public static byte[] ptx() {
        try (InputStream in = KernelSources.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the CUDA kernels " + RESOURCE + " are missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + RESOURCE, e);
        }
    }

    /** The source fingerprint recorded in a PTX text's first line, or null when it has none. */
    public static String recordedHash(byte[] ptx) {
        String text = new String(ptx, 0, Math.min(ptx.length, 200), StandardCharsets.US_ASCII);
        if (!text.startsWith(HASH_PREFIX)) {
            return null;
        }
        int end = text.indexOf('\n');
        return end < 0 ? null : text.substring(HASH_PREFIX.length(), end).trim();
    }

    /** Recomputes the fingerprint of the kernel sources in {@code dir} (runtime/src/main/cuda). */
    public static String hashSources(Path dir) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".cu") || n.endsWith(".cuh");
            }).sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Path f : files) {
            sha.update((f.getFileName().toString() + "\n").getBytes(StandardCharsets.UTF_8));
            sha.update(Files.readAllBytes(f));
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
