package dev.vellama.gguf;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF version 3 file the way llama.cpp lays one out: header, metadata in insertion order, tensor infos,
 * then the tensor data in the same order, each padded to {@code general.alignment} (32 when absent).
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new HashSet<>();

    /** Tensor bytes produced when the file is written, so that a large model never sits in memory whole. */
    @FunctionalInterface
    public interface TensorSource {
        /**
         * Writes the tensor's encoded bytes.
         *
         * @param target scratch memory of exactly the tensor's byte size, freed once it has been written out
         */
        void fill(MemorySegment target);
    }

    /** An empty writer: no metadata, no tensors. */
    public GgufWriter() {
    }

    private record Entry(String name, GgmlType type, long[] shape, long byteSize, MemorySegment data, TensorSource source) {}

    /**
     * Sets a metadata value; a key set twice keeps its first position and takes the new value.
     *
     * @param key   the metadata key, such as {@code general.architecture}
     * @param value the value with its GGUF type
     * @return this writer
     */
    public GgufWriter put(String key, GgufValue value) {
        metadata.put(key, value);
        return this;
    }

    /**
     * Copies every entry of another file's metadata, in its order, as {@link #put} would one by one.
     *
     * @param source the metadata to copy, such as that of the model being requantized
     * @return this writer
     */
    public GgufWriter putAll(GgufMetadata source) {
        source.asMap().forEach(this::put);
        return this;
    }

    /**
     * Drops a metadata key, if set.
     *
     * @param key the metadata key
     * @return this writer
     */
    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /**
     * As {@link #addTensor(String, GgmlType, long[], MemorySegment)}, with the bytes in a heap array.
     *
     * @param name  the tensor's GGUF name, at most 63 bytes of UTF-8 (ggml names are shorter than 64), unique in the file
     * @param type  how the data are encoded
     * @param shape 1 to 4 dimension sizes in ggml order; the first must be a multiple of the type's block size
     * @param data  exactly the bytes {@code type} needs for {@code shape}; kept, not copied, until the file is written
     * @return this writer
     * @throws IllegalArgumentException when the name is taken or too long, the shape does not fit the type, or the
     *                                  data have the wrong size
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, byte[] data) {
        return addTensor(name, type, shape, MemorySegment.ofArray(data));
    }

    /**
     * Adds a tensor; its data must be exactly the bytes {@code type} needs for {@code shape} (ggml order).
     *
     * @param name  the tensor's GGUF name, at most 63 bytes of UTF-8 (ggml names are shorter than 64), unique in the file
     * @param type  how the data are encoded
     * @param shape 1 to 4 dimension sizes in ggml order; the first must be a multiple of the type's block size
     * @param data  the encoded bytes; kept, not copied, so it must stay alive and unchanged until the file is written
     * @return this writer
     * @throws IllegalArgumentException when the name is taken or too long, the shape does not fit the type, or the
     *                                  data have the wrong size
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, MemorySegment data) {
        long expected = checkTensor(name, type, shape);
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + data.byteSize() + " bytes, " + type + " "
                    + java.util.Arrays.toString(shape) + " needs " + expected);
        }
        tensorNames.add(name);
        tensors.add(new Entry(name, type, shape.clone(), expected, data, null));
        return this;
    }

    /**
     * Adds a tensor whose bytes {@code source} writes into a scratch buffer when the file is written.
     *
     * @param name  the tensor's GGUF name, at most 63 bytes of UTF-8 (ggml names are shorter than 64), unique in the file
     * @param type  how the data are encoded
     * @param shape 1 to 4 dimension sizes in ggml order; the first must be a multiple of the type's block size
     * @param source called once per write with a buffer of the tensor's byte size to fill
     * @return this writer
     * @throws IllegalArgumentException when the name is taken or too long, or the shape does not fit the type
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorSource source) {
        long size = checkTensor(name, type, shape);
        tensorNames.add(name);
        tensors.add(new Entry(name, type, shape.clone(), size, null, source));
        return this;
    }

    /** Validates a new tensor and returns its byte size. */
    private long checkTensor(String name, GgmlType type, long[] shape) {
        if (tensorNames.contains(name)) {
            throw new IllegalArgumentException("tensor '" + name + "' added twice");
        }
        if (shape.length < 1 || shape.length > GgufParser.MAX_DIMS) {
            throw new IllegalArgumentException("tensor '" + name + "' needs 1 to 4 dimensions");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > GgufParser.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' is longer than " + GgufParser.MAX_NAME_BYTES + " bytes");
        }
        if (shape[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "' row of " + shape[0] + " values is not a multiple of "
                    + type + "'s block size " + type.blockSize());
        }
        return type.byteSize(GgufTensor.elementCount(shape));
    }

    /**
     * Writes the file, replacing one already at {@code path}.
     *
     * @param path where to write
     * @throws IOException when the file cannot be created or written
     * @throws IllegalStateException when {@code general.alignment} is set but not a UINT32 power of two
     */
    public void write(Path path) throws IOException {
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(path), 1 << 20)) {
            writeTo(out);
        }
    }

    /**
     * Writes the file to a stream, flushing it at the end; the stream stays open.
     *
     * @param sink where the bytes go
     * @throws IOException when writing to {@code sink} fails
     * @throws IllegalStateException when {@code general.alignment} is set but not a UINT32 power of two
     */
    public void writeTo(OutputStream sink) throws IOException {
        int alignment = alignment();
        CountingOutput out = new CountingOutput(sink);
        out.u32(GgufParser.MAGIC);
        out.u32(3);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            out.string(e.getKey());
            writeValue(out, e.getValue());
        }
        long offset = 0;
        for (Entry t : tensors) {
            out.string(t.name);
            out.u32(t.shape.length);
            for (long d : t.shape) {
                out.u64(d);
            }
            out.u32(t.type.id());
            out.u64(offset);
            offset += GgufParser.align(t.byteSize, alignment);
        }
        out.pad(alignment);
        byte[] buf = new byte[1 << 20];
        for (Entry t : tensors) {
            if (t.data != null) {
                copy(t.data, buf, out);
            } else {
                try (Arena scratch = Arena.ofConfined()) {
                    MemorySegment data = scratch.allocate(t.byteSize, 64);
                    t.source.fill(data);
                    copy(data, buf, out);
                }
            }
            out.pad(alignment);
        }
        out.flush();
    }

    private static void copy(MemorySegment data, byte[] buf, CountingOutput out) throws IOException {
        long n = data.byteSize();
        for (long p = 0; p < n; p += buf.length) {
            int len = (int) Math.min(buf.length, n - p);
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, p, buf, 0, len);
            out.bytes(buf, len);
        }
    }

    private int alignment() {
        GgufValue v = metadata.get("general.alignment");
        if (v == null) {
            return GgufParser.DEFAULT_ALIGNMENT;
        }
        long a = v.type() == GgufValueType.UINT32 ? (Long) v.value() : -1;
        if (a <= 0 || (a & (a - 1)) != 0) {
            throw new IllegalStateException("general.alignment must be a UINT32 power of two, not " + v.format(4));
        }
        return (int) a;
    }

    private static void writeValue(CountingOutput out, GgufValue v) throws IOException {
        out.u32(v.type().id());
        if (!v.isArray()) {
            writeScalar(out, v.type(), v.value());
            return;
        }
        GgufValueType et = v.elementType();
        out.u32(et.id());
        int n = v.length();
        out.u64(n);
        Object a = v.value();
        for (int i = 0; i < n; i++) {
            switch (et) {
                case UINT8, INT8 -> out.u8(((byte[]) a)[i]);
                case UINT16, INT16 -> out.u16(((short[]) a)[i]);
                case UINT32, INT32 -> out.u32(((int[]) a)[i]);
                case UINT64, INT64 -> out.u64(((long[]) a)[i]);
                case FLOAT32 -> out.u32(Float.floatToRawIntBits(((float[]) a)[i]));
                case FLOAT64 -> out.u64(Double.doubleToRawLongBits(((double[]) a)[i]));
                case BOOL -> out.u8(((boolean[]) a)[i] ? 1 : 0);
                case STRING -> out.string(((String[]) a)[i]);
                case ARRAY -> throw new AssertionError();
            }
        }
    }

    private static void writeScalar(CountingOutput out, GgufValueType t, Object v) throws IOException {
        switch (t) {
            case UINT8, INT8 -> out.u8((int) (long) (Long) v);
            case UINT16, INT16 -> out.u16((int) (long) (Long) v);
            case UINT32, INT32 -> out.u32((int) (long) (Long) v);
            case UINT64, INT64 -> out.u64((Long) v);
            case FLOAT32 -> out.u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> out.u8((Boolean) v ? 1 : 0);
            case STRING -> out.string((String) v);
            case ARRAY -> throw new AssertionError();
        }
    }

    /** Little-endian primitives onto a stream, counting bytes for padding. */
    private static final class CountingOutput {
        private final OutputStream out;
        private final byte[] scratch = new byte[8];
        private long written;

        CountingOutput(OutputStream out) {
            this.out = out;
        }

        void u8(int v) throws IOException {
            out.write(v);
            written++;
        }

        void u16(int v) throws IOException {
            le(v, 2);
        }

        void u32(int v) throws IOException {
            le(v, 4);
        }

        void u64(long v) throws IOException {
            le(v, 8);
        }

        private void le(long v, int n) throws IOException {
            for (int i = 0; i < n; i++) {
                scratch[i] = (byte) (v >>> (8 * i));
            }
            out.write(scratch, 0, n);
            written += n;
        }

        void string(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b, b.length);
        }

        void bytes(byte[] b, int len) throws IOException {
            out.write(b, 0, len);
            written += len;
        }

        void pad(int alignment) throws IOException {
            long target = GgufParser.align(written, alignment);
            while (written < target) {
                u8(0);
            }
        }

        void flush() throws IOException {
            out.flush();
        }
    }
}
