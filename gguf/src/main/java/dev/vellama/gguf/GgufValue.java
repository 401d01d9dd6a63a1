package dev.vellama.gguf;

import java.util.Objects;

/**
 * One metadata value with its GGUF type. Integers of every width are held as a {@code long} (unsigned types
 * zero-extended), FLOAT32 as {@code Float}, FLOAT64 as {@code Double}, BOOL as {@code Boolean}, strings as
 * {@code String}; arrays as a primitive array of the element type's width ({@code byte[]} for (U)INT8 and BOOL as
 * {@code boolean[]}, {@code short[]}, {@code int[]}, {@code long[]}, {@code float[]}, {@code double[]},
 * {@code String[]}), keeping the raw bits so a file can be written back unchanged.
 *
 * @param type        the GGUF value type; {@code ARRAY} for arrays
 * @param elementType the type of an array's elements, never {@code ARRAY}; null for scalars
 * @param value       the value in the Java form listed above for its type
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    /**
     * Checks that {@code value} has the Java form its type calls for.
     *
     * @throws NullPointerException when {@code type} or {@code value} is null
     * @throws IllegalArgumentException when the element type is missing or set for the wrong kind of value, or
     *                                  {@code value} is not of the expected class
     */
    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        if ((type == GgufValueType.ARRAY) != (elementType != null)) {
            throw new IllegalArgumentException("an element type goes with ARRAY values only");
        }
        if (elementType == GgufValueType.ARRAY) {
            throw new IllegalArgumentException("GGUF has no arrays of arrays");
        }
        Class<?> expected = type == GgufValueType.ARRAY ? arrayClass(elementType) : scalarClass(type);
        if (!expected.isInstance(value)) {
            throw new IllegalArgumentException(describeType(type, elementType) + " needs a " + expected.getSimpleName()
                    + ", not a " + value.getClass().getSimpleName());
        }
    }

    /**
     * A UINT8 value.
     *
     * @param v the value; only its low 8 bits are kept
     * @return the new value
     */
    public static GgufValue uint8(int v) { return integer(GgufValueType.UINT8, v & 0xFFL); }
    /**
     * An INT8 value.
     *
     * @param v the value, narrowed to a signed byte
     * @return the new value
     */
    public static GgufValue int8(int v) { return integer(GgufValueType.INT8, (byte) v); }
    /**
     * A UINT16 value.
     *
     * @param v the value; only its low 16 bits are kept
     * @return the new value
     */
    public static GgufValue uint16(int v) { return integer(GgufValueType.UINT16, v & 0xFFFFL); }
    /**
     * An INT16 value.
     *
     * @param v the value, narrowed to a signed short
     * @return the new value
     */
    public static GgufValue int16(int v) { return integer(GgufValueType.INT16, (short) v); }
    /**
     * A UINT32 value, as token ids and {@code general.alignment} are stored.
     *
     * @param v the value; only its low 32 bits are kept
     * @return the new value
     */
    public static GgufValue uint32(long v) { return integer(GgufValueType.UINT32, v & 0xFFFF_FFFFL); }
    /**
     * An INT32 value.
     *
     * @param v the value
     * @return the new value
     */
    public static GgufValue int32(int v) { return integer(GgufValueType.INT32, v); }
    /**
     * A UINT64 value.
     *
     * @param v the value's 64 bits, read as unsigned (a negative long stands for 2^63 and above)
     * @return the new value
     */
    public static GgufValue uint64(long v) { return integer(GgufValueType.UINT64, v); }
    /**
     * An INT64 value.
     *
     * @param v the value
     * @return the new value
     */
    public static GgufValue int64(long v) { return integer(GgufValueType.INT64, v); }
    /**
     * A FLOAT32 value, as norm epsilons and RoPE bases are stored.
     *
     * @param v the value
     * @return the new value
     */
    public static GgufValue float32(float v) { return new GgufValue(GgufValueType.FLOAT32, null, v); }
    /**
     * A FLOAT64 value.
     *
     * @param v the value
     * @return the new value
     */
    public static GgufValue float64(double v) { return new GgufValue(GgufValueType.FLOAT64, null, v); }
    /**
     * A BOOL value, one byte in the file.
     *
     * @param v the value
     * @return the new value
     */
    public static GgufValue bool(boolean v) { return new GgufValue(GgufValueType.BOOL, null, v); }
    /**
     * A STRING value, UTF-8 in the file.
     *
     * @param v the text; not null
     * @return the new value
     */
    public static GgufValue string(String v) { return new GgufValue(GgufValueType.STRING, null, v); }

    /**
     * An array value; {@code array} must be the primitive array type that goes with {@code elementType}.
     *
     * @param elementType the type of every element; not {@code ARRAY}
     * @param array       the elements, such as a {@code String[]} for STRING or an {@code int[]} for (U)INT32; kept,
     *                    not copied
     * @return the new value
     * @throws IllegalArgumentException when the array's class does not fit {@code elementType}
     */
    public static GgufValue array(GgufValueType elementType, Object array) {
        return new GgufValue(GgufValueType.ARRAY, elementType, array);
    }

    /**
     * An integer value of any width, with no narrowing: the caller passes a value that fits {@code type}.
     *
     * @param type one of the integer types
     * @param v    the value as held: sign-extended for signed types, zero-extended for unsigned ones
     * @return the new value
     * @throws IllegalArgumentException when {@code type} is not an integer type
     */
    public static GgufValue integer(GgufValueType type, long v) {
        if (!type.isInteger()) {
            throw new IllegalArgumentException(type + " is not an integer type");
        }
        return new GgufValue(type, null, v);
    }

    /** {@return whether this is an ARRAY value} */
    public boolean isArray() {
        return type == GgufValueType.ARRAY;
    }

    /** {@return the number of elements of an array value (1 for a scalar)} */
    public int length() {
        if (!isArray()) {
            return 1;
        }
        return java.lang.reflect.Array.getLength(value);
    }

    /** {@return the type as people read it: {@code UINT32}, {@code ARRAY[STRING]}} */
    public String typeName() {
        return describeType(type, elementType);
    }

    static String describeType(GgufValueType type, GgufValueType elementType) {
        return type == GgufValueType.ARRAY ? "ARRAY[" + elementType + "]" : type.name();
    }

    static Class<?> scalarClass(GgufValueType t) {
        return switch (t) {
            case FLOAT32 -> Float.class;
            case FLOAT64 -> Double.class;
            case BOOL -> Boolean.class;
            case STRING -> String.class;
            case ARRAY -> throw new IllegalArgumentException("ARRAY is not a scalar type");
            default -> Long.class;
        };
    }

    static Class<?> arrayClass(GgufValueType t) {
        return switch (t) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> throw new IllegalArgumentException("GGUF has no arrays of arrays");
        };
    }

    /** Element {@code i} of an integer array as a long, honouring the element type's signedness. */
    long integerAt(int i) {
        return switch (elementType) {
            case UINT8 -> ((byte[]) value)[i] & 0xFFL;
            case INT8 -> ((byte[]) value)[i];
            case UINT16 -> ((short[]) value)[i] & 0xFFFFL;
            case INT16 -> ((short[]) value)[i];
            case UINT32 -> ((int[]) value)[i] & 0xFFFF_FFFFL;
            case INT32 -> ((int[]) value)[i];
            case UINT64, INT64 -> ((long[]) value)[i];
            default -> throw new IllegalStateException(typeName() + " is not an integer array");
        };
    }

    /**
     * The value as short text for listings: strings quoted with escapes, UINT64 unsigned.
     *
     * @param maxElements how many elements of an array to show before {@code ... (N in all)}
     * @return scalars in full, arrays abbreviated to their first {@code maxElements} elements
     */
    public String format(int maxElements) {
        if (!isArray()) {
            return formatScalar(type, value);
        }
        int n = length();
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < Math.min(n, maxElements); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(formatScalar(elementType, element(i)));
        }
        if (n > maxElements) {
            sb.append(", ... (").append(n).append(" in all)");
        }
        return sb.append(']').toString();
    }

    /**
     * One element of an array value.
     *
     * @param i the element's index, from 0 to {@link #length()} - 1
     * @return the element, boxed as a scalar of the element type would be (integers as {@code Long})
     */
    public Object element(int i) {
        return switch (elementType) {
            case FLOAT32 -> ((float[]) value)[i];
            case FLOAT64 -> ((double[]) value)[i];
            case BOOL -> ((boolean[]) value)[i];
            case STRING -> ((String[]) value)[i];
            default -> integerAt(i);
        };
    }

    private static String formatScalar(GgufValueType t, Object v) {
        return switch (t) {
            case STRING -> quote((String) v);
            case UINT64 -> Long.toUnsignedString((Long) v);
            default -> String.valueOf(v);
        };
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
