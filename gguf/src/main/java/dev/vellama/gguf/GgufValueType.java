package dev.vellama.gguf;

/** The 13 metadata value types of GGUF, with their on-disk ids (gguf.h {@code gguf_type}). */
public enum GgufValueType {
    /** Unsigned 8-bit integer. */
    UINT8(0, 1),
    /** Signed 8-bit integer. */
    INT8(1, 1),
    /** Unsigned 16-bit integer. */
    UINT16(2, 2),
    /** Signed 16-bit integer. */
    INT16(3, 2),
    /** Unsigned 32-bit integer, the usual type of counts and token ids. */
    UINT32(4, 4),
    /** Signed 32-bit integer. */
    INT32(5, 4),
    /** 32-bit IEEE float. */
    FLOAT32(6, 4),
    /** Boolean, one byte: 0 or 1. */
    BOOL(7, 1),
    /** UTF-8 string: a uint64 byte length, then the bytes, no terminator. */
    STRING(8, 8),
    /** Array of one element type: a uint32 type id, a uint64 count, then the elements; arrays of arrays are rejected. */
    ARRAY(9, 12),
    /** Unsigned 64-bit integer. */
    UINT64(10, 8),
    /** Signed 64-bit integer. */
    INT64(11, 8),
    /** 64-bit IEEE double. */
    FLOAT64(12, 8);

    private static final GgufValueType[] BY_ID = values();

    private final int id;
    private final int minBytes;

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    /** {@return the type's on-disk id, as written before each metadata value} */
    public int id() {
        return id;
    }

    /** Smallest encoding of one value of this type: its size, or the length prefix for strings and arrays. */
    int minBytes() {
        return minBytes;
    }

    /** {@return whether this is one of the eight integer types, signed or not} */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** {@return whether this is an unsigned integer type (UINT8 to UINT64)} */
    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }

    /**
     * Looks a type up by its on-disk id.
     *
     * @param id the id read from the file
     * @return the type with this id, or null when the id is not one GGUF defines
     */
    public static GgufValueType byId(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }
}
