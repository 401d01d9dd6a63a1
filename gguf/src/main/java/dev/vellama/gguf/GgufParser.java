package dev.vellama.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses the header of one GGUF file held in a memory segment and checks every count, length and offset against
 * the bytes actually there before using it, so that a hostile file ends in a {@link GgufFormatException} and never
 * in a huge allocation, an out-of-bounds access or a long loop.
 */
final class GgufParser {
    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    static final int MAX_NAME_BYTES = 63; // llama.cpp: names shorter than GGML_MAX_NAME (64)
    /** Smallest tensor info: name length prefix, n_dims, one dim, type, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** What one file's header says, with tensor data as slices of the segment it was parsed from. */
    record Parsed(int version, GgufMetadata metadata, List<GgufTensor> tensors, int alignment, long dataOffset) {}

    private final MemorySegment seg;
    private final long size;
    private long pos;

    private GgufParser(MemorySegment seg) {
        this.seg = seg;
        this.size = seg.byteSize();
    }

    static Parsed parse(MemorySegment seg) throws GgufFormatException {
        return new GgufParser(seg).parse();
    }

    private Parsed parse() throws GgufFormatException {
        if (size < 4) {
            throw new GgufFormatException("not a GGUF file: only " + size + " bytes", 0);
        }
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            throw new GgufFormatException("not a GGUF file: bad magic " + hexMagic(), 0);
        }
        pos = 4;
        int version = readI32("version");
        if (version == 1) {
            throw new GgufFormatException("GGUF version 1 is no longer supported; convert the file again with a current llama.cpp", 4);
        }
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw new GgufFormatException("big-endian GGUF files are not supported", 4);
            }
            throw new GgufFormatException("unsupported GGUF version " + Integer.toUnsignedString(version) + " (this reader knows 2 and 3)", 4);
        }
        long tensorCountAt = pos;
        long tensorCount = readI64("tensor count");
        long kvCountAt = pos;
        long kvCount = readI64("metadata count");
        if (tensorCount < 0 || tensorCount > remaining() / MIN_TENSOR_INFO_BYTES) {
            throw new GgufFormatException("tensor count " + tensorCount + " does not fit in the file", tensorCountAt);
        }
        // each pair needs a key length prefix, a type id and a value of at least one byte
        if (kvCount < 0 || kvCount > remaining() / (8 + 4 + 1)) {
            throw new GgufFormatException("metadata count " + kvCount + " does not fit in the file", kvCountAt);
        }

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = pos;
            String key = readString("metadata key");
            long typeAt = pos;
            GgufValueType type = readValueType("metadata value type of '" + key + "'");
            GgufValue value = readValue(key, type, typeAt);
            if (kv.putIfAbsent(key, value) != null) {
                throw new GgufFormatException("duplicate metadata key '" + key + "'", keyAt);
            }
        }
        GgufMetadata metadata = new GgufMetadata(kv);
        int alignment = alignment(metadata);

        record Info(String name, GgmlType type, long[] shape, long offset, long at) {}
        List<Info> infos = new ArrayList<>((int) tensorCount);
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            long at = pos;
            String name = readString("tensor name");
            if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
                throw new GgufFormatException("tensor name '" + name.substring(0, 32) + "...' is longer than " + MAX_NAME_BYTES + " bytes", at);
            }
            if (!names.add(name)) {
                throw new GgufFormatException("duplicate tensor name '" + name + "'", at);
            }
            long dimsAt = pos;
            int nDims = readI32("dimension count of tensor '" + name + "'");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new GgufFormatException("tensor '" + name + "' has " + Integer.toUnsignedString(nDims) + " dimensions (1 to " + MAX_DIMS + " allowed)", dimsAt);
            }
            long[] shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                long dimAt = pos;
                shape[d] = readI64("dimension of tensor '" + name + "'");
                if (shape[d] < 0) {
                    throw new GgufFormatException("tensor '" + name + "' has a negative dimension " + shape[d], dimAt);
                }
                try {
                    elements = Math.multiplyExact(elements, shape[d]);
                } catch (ArithmeticException e) {
                    throw new GgufFormatException("tensor '" + name + "' has more elements than a 64-bit count holds", dimAt);
                }
            }
            long typeAt = pos;
            int typeId = readI32("type of tensor '" + name + "'");
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw new GgufFormatException("tensor '" + name + "' has unknown type id " + Integer.toUnsignedString(typeId), typeAt);
            }
            if (shape[0] % type.blockSize() != 0) {
                throw new GgufFormatException("tensor '" + name + "' row of " + shape[0] + " values is not a multiple of " + type + "'s block size " + type.blockSize(), dimsAt);
            }
            long offsetAt = pos;
            long offset = readI64("data offset of tensor '" + name + "'");
            if (offset < 0 || offset % alignment != 0) {
                throw new GgufFormatException("tensor '" + name + "' data offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment, offsetAt);
            }
            infos.add(new Info(name, type, shape, offset, at));
        }

        long dataOffset = align(pos, alignment);
        if (tensorCount > 0 && dataOffset > size) {
            throw new GgufFormatException("file ends before its tensor data starts (data would start at byte " + dataOffset + ", file has " + size + ")", size);
        }

        List<GgufTensor> tensors = new ArrayList<>(infos.size());
        for (Info info : infos) {
            long elements = GgufTensor.elementCount(info.shape);
            long bytes;
            long start;
            try {
                bytes = Math.multiplyExact(elements / info.type.blockSize(), (long) info.type.bytesPerBlock());
                start = Math.addExact(dataOffset, info.offset);
                Math.addExact(start, bytes);
            } catch (ArithmeticException e) {
                throw new GgufFormatException("tensor '" + info.name + "' size or offset overflows", info.at);
            }
            if (start + bytes > size) {
                throw new GgufFormatException("tensor '" + info.name + "' data [" + start + ", " + (start + bytes) + ") lies beyond the end of the file (" + size + " bytes)", info.at);
            }
            tensors.add(new GgufTensor(info.name, info.type, info.shape, start, seg.asSlice(start, bytes)));
        }
        checkNoOverlap(tensors);
        return new Parsed(version, metadata, List.copyOf(tensors), alignment, dataOffset);
    }

    private static void checkNoOverlap(List<GgufTensor> tensors) throws GgufFormatException {
        List<GgufTensor> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(GgufTensor::fileOffset));
        for (int i = 1; i < sorted.size(); i++) {
            GgufTensor prev = sorted.get(i - 1);
            GgufTensor next = sorted.get(i);
            if (prev.fileOffset() + prev.byteSize() > next.fileOffset()) {
                throw new GgufFormatException("tensor '" + next.name() + "' overlaps tensor '" + prev.name() + "'", next.fileOffset());
            }
        }
    }

    private static int alignment(GgufMetadata metadata) throws GgufFormatException {
        GgufValue v = metadata.find("general.alignment").orElse(null);
        if (v == null) {
            return DEFAULT_ALIGNMENT;
        }
        if (v.type() != GgufValueType.UINT32) {
            throw new GgufFormatException("general.alignment must be UINT32, not " + v.typeName());
        }
        long a = (Long) v.value();
        if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
            throw new GgufFormatException("general.alignment " + a + " is not a power of two");
        }
        return (int) a;
    }

    static long align(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }

    private GgufValue readValue(String key, GgufValueType type, long at) throws GgufFormatException {
        if (type != GgufValueType.ARRAY) {
            return new GgufValue(type, null, readScalar(type, key));
        }
        GgufValueType elementType = readValueType("element type of '" + key + "'");
        if (elementType == GgufValueType.ARRAY) {
            throw new GgufFormatException("metadata key '" + key + "' is an array of arrays, which GGUF does not allow", at);
        }
        long countAt = pos;
        long count = readI64("array length of '" + key + "'");
        if (count < 0 || count > remaining() / elementType.minBytes() || count > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException("array '" + key + "' claims " + Long.toUnsignedString(count) + " elements, more than the file holds", countAt);
        }
        int n = (int) count;
        Object array = switch (elementType) {
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, a, 0, n);
                pos += n;
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[n];
                MemorySegment.copy(seg, U16, pos, a, 0, n);
                pos += 2L * n;
                yield a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[n];
                MemorySegment.copy(seg, U32, pos, a, 0, n);
                pos += 4L * n;
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[n];
                MemorySegment.copy(seg, U64, pos, a, 0, n);
                pos += 8L * n;
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                MemorySegment.copy(seg, F32, pos, a, 0, n);
                pos += 4L * n;
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                MemorySegment.copy(seg, F64, pos, a, 0, n);
                pos += 8L * n;
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                for (int i = 0; i < n; i++) {
                    a[i] = seg.get(ValueLayout.JAVA_BYTE, pos + i) != 0;
                }
                pos += n;
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = readArrayString(key, i);
                }
                yield a;
            }
            case ARRAY -> throw new AssertionError();
        };
        return new GgufValue(GgufValueType.ARRAY, elementType, array);
    }

    private Object readScalar(GgufValueType type, String key) throws GgufFormatException {
        String what = "value of '" + key + "'";
        return switch (type) {
            case UINT8 -> (long) (readBytes(1, what) & 0xFF);
            case INT8 -> (long) (byte) readBytes(1, what);
            case UINT16 -> (long) (readBytes(2, what) & 0xFFFF);
            case INT16 -> (long) (short) readBytes(2, what);
            case UINT32 -> readBytes(4, what) & 0xFFFF_FFFFL;
            case INT32 -> (long) (int) readBytes(4, what);
            case UINT64, INT64 -> readBytes(8, what);
            case FLOAT32 -> Float.intBitsToFloat((int) readBytes(4, what));
            case FLOAT64 -> Double.longBitsToDouble(readBytes(8, what));
            case BOOL -> readBytes(1, what) != 0;
            case STRING -> readString(what);
            case ARRAY -> throw new AssertionError();
        };
    }

    private GgufValueType readValueType(String what) throws GgufFormatException {
        long at = pos;
        int id = readI32(what);
        GgufValueType t = GgufValueType.byId(id);
        if (t == null) {
            throw new GgufFormatException("unknown " + what + " " + Integer.toUnsignedString(id), at);
        }
        return t;
    }

    private String readString(String what) throws GgufFormatException {
        long at = pos;
        long len = readI64("length of " + what);
        if (len < 0 || len > remaining() || len > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException("string length " + Long.toUnsignedString(len) + " of " + what + " runs past the end of the file", at);
        }
        return utf8(len);
    }

    /**
     * Element i of string array {@code key}: {@link #readString}'s checks with the error's wording built only when
     * one fails (a vocabulary and its merges are 400k elements, read before the JIT compiler has compiled this).
     */
    private String readArrayString(String key, int i) throws GgufFormatException {
        long len = remaining() >= 8 ? seg.get(U64, pos) : -1;
        if (len < 0 || len > remaining() - 8 || len > Integer.MAX_VALUE - 8) {
            return readString("element " + i + " of '" + key + "'"); // throws, saying where
        }
        pos += 8;
        return utf8(len);
    }

    /** The {@code len} bytes at the read position (checked by the caller) as UTF-8, moving past them. */
    private String utf8(long len) {
        byte[] bytes = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, pos, bytes, 0, bytes.length);
        pos += len;
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private int readI32(String what) throws GgufFormatException {
        return (int) readBytes(4, what);
    }

    private long readI64(String what) throws GgufFormatException {
        return readBytes(8, what);
    }

    /** Reads a little-endian integer of 1, 2, 4 or 8 bytes, failing cleanly at the end of the file. */
    private long readBytes(int n, String what) throws GgufFormatException {
        if (remaining() < n) {
            throw new GgufFormatException("file is truncated: it ends inside the " + what, pos);
        }
        long v = switch (n) {
            case 1 -> seg.get(ValueLayout.JAVA_BYTE, pos);
            case 2 -> seg.get(U16, pos);
            case 4 -> seg.get(U32, pos);
            default -> seg.get(U64, pos);
        };
        pos += n;
        return v;
    }

    private long remaining() {
        return size - pos;
    }

    private String hexMagic() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            sb.append(String.format("%02x", seg.get(ValueLayout.JAVA_BYTE, i)));
        }
        return sb.toString();
    }
}
