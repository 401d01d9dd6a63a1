package dev.vellama.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GGUF model file, memory-mapped once and read in place: every tensor's data is a zero-copy slice of the mapping.
 * A model split by llama.cpp's {@code gguf-split} ({@code name-00001-of-00003.gguf}) opens as one file through its
 * first part. The mapping lives until {@link #close()}, never until a garbage collection.
 */
public final class GgufFile implements AutoCloseable {
    private static final Pattern SPLIT_NAME = Pattern.compile("(.*)-(\\d{5})-of-(\\d{5})\\.gguf");

    private final Path path;
    private final List<Path> parts;
    private final Arena arena;
    private final int version;
    private final GgufMetadata metadata;
    private final int alignment;
    private final long dataOffset;
    private final long totalBytes;
    private final Map<String, GgufTensor> tensors;

    private GgufFile(Path path, List<Path> parts, Arena arena, GgufParser.Parsed first, Map<String, GgufTensor> tensors, long totalBytes) {
        this.path = path;
        this.parts = List.copyOf(parts);
        this.arena = arena;
        this.version = first.version();
        this.metadata = first.metadata();
        this.alignment = first.alignment();
        this.dataOffset = first.dataOffset();
        this.tensors = Collections.unmodifiableMap(tensors);
        this.totalBytes = totalBytes;
    }

    /**
     * Maps and parses a GGUF file (and the other parts of a split model, found next to it by name).
     *
     * @param path the model file, or the first part ({@code -00001-of-N}) of a split model
     * @return the open file; the caller closes it to unmap
     * @throws java.nio.file.NoSuchFileException when the file (or one of its parts) does not exist
     * @throws IOException when a file cannot be opened or mapped
     * @throws GgufFormatException when a file is not valid GGUF, or the parts do not make one model
     */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = map(path, arena);
            GgufParser.Parsed first = GgufParser.parse(seg);
            List<Path> parts = new ArrayList<>(List.of(path));
            Map<String, GgufTensor> tensors = new LinkedHashMap<>();
            for (GgufTensor t : first.tensors()) {
                tensors.put(t.name(), t);
            }
            long total = seg.byteSize();
            int splitCount = first.metadata().getInt("split.count", 1);
            if (splitCount > 1) {
                total += openOtherParts(path, first.metadata(), splitCount, arena, parts, tensors);
            }
            return new GgufFile(path, parts, arena, first, tensors, total);
        } catch (IOException | RuntimeException e) {
            arena.close();
            if (e instanceof GgufMetadataException m) {
                throw new GgufFormatException(path.getFileName() + ": " + m.getMessage());
            }
            throw e;
        }
    }

    private static long openOtherParts(Path path, GgufMetadata meta, int count, Arena arena, List<Path> parts,
                                       Map<String, GgufTensor> tensors) throws IOException {
        Matcher m = SPLIT_NAME.matcher(path.getFileName().toString());
        if (!m.matches() || Integer.parseInt(m.group(2)) != 1 || Integer.parseInt(m.group(3)) != count) {
            throw new GgufFormatException(path.getFileName() + " is part of a model split in " + count
                    + " files; open the first part, named like NAME-00001-of-" + String.format("%05d", count) + ".gguf");
        }
        long total = 0;
        for (int i = 2; i <= count; i++) {
            Path part = path.resolveSibling(String.format("%s-%05d-of-%05d.gguf", m.group(1), i, count));
            MemorySegment seg = map(part, arena);
            total += seg.byteSize();
            GgufParser.Parsed parsed;
            try {
                parsed = GgufParser.parse(seg);
            } catch (GgufFormatException e) {
                throw new GgufFormatException(part.getFileName() + ": " + e.getMessage());
            }
            int no = parsed.metadata().getInt("split.no", -1);
            if (no != i - 1) {
                throw new GgufFormatException(part.getFileName() + " says it is split part " + no + ", expected " + (i - 1));
            }
            for (GgufTensor t : parsed.tensors()) {
                if (tensors.putIfAbsent(t.name(), t) != null) {
                    throw new GgufFormatException("tensor '" + t.name() + "' appears in more than one split part (again in " + part.getFileName() + ")");
                }
            }
            parts.add(part);
        }
        int expected = meta.getInt("split.tensors.count", tensors.size());
        if (expected != tensors.size()) {
            throw new GgufFormatException("split model announces " + expected + " tensors but its parts hold " + tensors.size());
        }
        return total;
    }

    private static MemorySegment map(Path path, Arena arena) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        }
        if (Files.isDirectory(path)) {
            throw new GgufFormatException(path + " is a directory, not a GGUF file");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size == 0) {
                throw new GgufFormatException(path.getFileName() + " is empty", 0);
            }
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
    }

    /**
     * Parses GGUF bytes already in memory (a heap or native segment), without a file. Tensor data are slices of
     * {@code bytes}. Used for tests and for tools that build files in memory.
     *
     * @param bytes a whole GGUF file; it must stay alive as long as the tensors are used
     * @return the parsed file, with no path and no parts; closing it frees nothing
     * @throws GgufFormatException when the bytes are not valid GGUF
     */
    public static GgufFile parse(MemorySegment bytes) throws GgufFormatException {
        GgufParser.Parsed parsed = GgufParser.parse(bytes);
        Map<String, GgufTensor> tensors = new LinkedHashMap<>();
        parsed.tensors().forEach(t -> tensors.put(t.name(), t));
        return new GgufFile(null, List.of(), null, parsed, tensors, bytes.byteSize());
    }

    /** {@return the file opened (the first part of a split model); null for {@link #parse}d bytes} */
    public Path path() {
        return path;
    }

    /** {@return all files of this model, the first part first; empty for {@link #parse}d bytes} */
    public List<Path> parts() {
        return parts;
    }

    /** {@return the GGUF format version in the header (2 or 3)} */
    public int version() {
        return version;
    }

    /** {@return the key-value metadata of the (first) file} */
    public GgufMetadata metadata() {
        return metadata;
    }

    /** {@return the alignment of tensor data in bytes: {@code general.alignment}, 32 when absent} */
    public int alignment() {
        return alignment;
    }

    /** {@return the byte offset where tensor data start in the (first) file} */
    public long dataOffset() {
        return dataOffset;
    }

    /** {@return the size in bytes of all parts together} */
    public long fileSize() {
        return totalBytes;
    }

    /** {@return the tensors in file order (parts in order), as an unmodifiable copy} */
    public List<GgufTensor> tensors() {
        return List.copyOf(tensors.values());
    }

    /**
     * Whether the model has a tensor, for optional weights such as biases or {@code rope_freqs}.
     *
     * @param name the tensor's GGUF name, such as {@code blk.0.attn_q.bias}
     * @return true when any part holds it
     */
    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    /**
     * A tensor the model needs.
     *
     * @param name the tensor's GGUF name, such as {@code blk.0.attn_q.weight}
     * @return the tensor, its data a slice of the mapping
     * @throws GgufMetadataException when no part holds it
     */
    public GgufTensor tensor(String name) {
        GgufTensor t = tensors.get(name);
        if (t == null) {
            throw new GgufMetadataException("tensor '" + name + "' is missing from the model file");
        }
        return t;
    }

    /** {@return {@code general.architecture} (such as {@code llama}), or null when the file does not say} */
    public String architecture() {
        return metadata.getString("general.architecture", null);
    }

    /** Unmaps the file(s); tensor segments become inaccessible. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
