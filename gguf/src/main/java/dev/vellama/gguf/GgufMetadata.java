package dev.vellama.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The key-value metadata of a GGUF file, in file order, with typed access. A getter accepts any stored type that
 * converts without loss (an INT32 or UINT8 for {@link #getInt}); anything else is a {@link GgufMetadataException}
 * naming the key, the type asked for and the type stored.
 */
public final class GgufMetadata {
    private final Map<String, GgufValue> entries;

    /**
     * Metadata holding a copy of {@code entries}, in their iteration order.
     *
     * @param entries keys and values, in the order they are to be listed and written
     */
    public GgufMetadata(Map<String, GgufValue> entries) {
        this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** {@return every entry in file order, unmodifiable} */
    public Map<String, GgufValue> asMap() {
        return entries;
    }

    /** {@return the keys in file order, unmodifiable} */
    public Set<String> keys() {
        return entries.keySet();
    }

    /** {@return the number of keys} */
    public int size() {
        return entries.size();
    }

    /**
     * Whether the file sets a key, of whatever type.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return true when the key is present
     */
    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    /**
     * A value that may be absent, with its type as stored.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return the value, or empty when the key is missing
     */
    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    /**
     * A value that must be present, with its type as stored.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return the value
     * @throws GgufMetadataException when the key is missing
     */
    public GgufValue get(String key) {
        GgufValue v = entries.get(key);
        if (v == null) {
            throw new GgufMetadataException("metadata key '" + key + "' is missing");
        }
        return v;
    }

    /**
     * An integer of any GGUF width and signedness.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return the value, zero-extended from unsigned types
     * @throws GgufMetadataException when the key is missing, not an integer, or a UINT64 above {@link Long#MAX_VALUE}
     */
    public long getLong(String key) {
        GgufValue v = get(key);
        if (!v.type().isInteger()) {
            throw wrongType(key, "an integer", v);
        }
        long x = (Long) v.value();
        if (v.type() == GgufValueType.UINT64 && x < 0) {
            throw new GgufMetadataException("metadata key '" + key + "' holds UINT64 " + Long.toUnsignedString(x)
                    + ", too large for a signed 64-bit integer");
        }
        return x;
    }

    /**
     * An integer that fits an int, as counts and lengths do.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return the value
     * @throws GgufMetadataException when the key is missing, not an integer, or out of the int range
     */
    public int getInt(String key) {
        long x = getLong(key);
        if (x != (int) x) {
            throw new GgufMetadataException("metadata key '" + key + "' holds " + get(key).typeName() + " " + x
                    + ", out of the 32-bit integer range");
        }
        return (int) x;
    }

    /**
     * As {@link #getInt(String)}, for an optional key.
     *
     * @param key          the metadata key, such as {@code llama.context_length}
     * @param defaultValue returned when the key is missing
     * @return the value, or {@code defaultValue}
     * @throws GgufMetadataException when the key is present but holds a type that does not convert without loss
     */
    public int getInt(String key, int defaultValue) {
        return contains(key) ? getInt(key) : defaultValue;
    }

    /**
     * As {@link #getLong(String)}, for an optional key.
     *
     * @param key          the metadata key, such as {@code llama.context_length}
     * @param defaultValue returned when the key is missing
     * @return the value, or {@code defaultValue}
     * @throws GgufMetadataException when the key is present but holds a type that does not convert without loss
     */
    public long getLong(String key, long defaultValue) {
        return contains(key) ? getLong(key) : defaultValue;
    }

    /**
     * A FLOAT32, or a FLOAT64 rounded to float.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return the value
     * @throws GgufMetadataException when the key is missing or not a float type
     */
    public float getFloat(String key) {
        GgufValue v = get(key);
        return switch (v.type()) {
            case FLOAT32 -> (Float) v.value();
            case FLOAT64 -> (float) (double) (Double) v.value();
            default -> throw wrongType(key, "FLOAT32", v);
        };
    }

    /**
     * As {@link #getFloat(String)}, for an optional key.
     *
     * @param key          the metadata key, such as {@code llama.context_length}
     * @param defaultValue returned when the key is missing
     * @return the value, or {@code defaultValue}
     * @throws GgufMetadataException when the key is present but not a float type
     */
    public float getFloat(String key, float defaultValue) {
        return contains(key) ? getFloat(key) : defaultValue;
    }

    /**
     * A FLOAT64, or a FLOAT32 widened exactly.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return the value
     * @throws GgufMetadataException when the key is missing or not a float type
     */
    public double getDouble(String key) {
        GgufValue v = get(key);
        return switch (v.type()) {
            case FLOAT32 -> (Float) v.value();
            case FLOAT64 -> (Double) v.value();
            default -> throw wrongType(key, "FLOAT64", v);
        };
    }

    /**
     * A BOOL.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return the value
     * @throws GgufMetadataException when the key is missing or not a BOOL
     */
    public boolean getBool(String key) {
        GgufValue v = get(key);
        if (v.type() != GgufValueType.BOOL) {
            throw wrongType(key, "BOOL", v);
        }
        return (Boolean) v.value();
    }

    /**
     * As {@link #getBool(String)}, for an optional key.
     *
     * @param key          the metadata key, such as {@code llama.context_length}
     * @param defaultValue returned when the key is missing
     * @return the value, or {@code defaultValue}
     * @throws GgufMetadataException when the key is present but not a BOOL
     */
    public boolean getBool(String key, boolean defaultValue) {
        return contains(key) ? getBool(key) : defaultValue;
    }

    /**
     * A STRING.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return the value
     * @throws GgufMetadataException when the key is missing or not a STRING
     */
    public String getString(String key) {
        GgufValue v = get(key);
        if (v.type() != GgufValueType.STRING) {
            throw wrongType(key, "STRING", v);
        }
        return (String) v.value();
    }

    /**
     * As {@link #getString(String)}, for an optional key.
     *
     * @param key          the metadata key, such as {@code llama.context_length}
     * @param defaultValue returned when the key is missing; may be null
     * @return the value, or {@code defaultValue}
     * @throws GgufMetadataException when the key is present but not a STRING
     */
    public String getString(String key, String defaultValue) {
        return contains(key) ? getString(key) : defaultValue;
    }

    /**
     * An ARRAY[STRING], such as the vocabulary in {@code tokenizer.ggml.tokens}.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return a copy of the strings, the caller's to keep
     * @throws GgufMetadataException when the key is missing or not an ARRAY[STRING]
     */
    public String[] getStringArray(String key) {
        GgufValue v = get(key);
        if (v.elementType() != GgufValueType.STRING) {
            throw wrongType(key, "ARRAY[STRING]", v);
        }
        return ((String[]) v.value()).clone();
    }

    /**
     * An ARRAY[FLOAT32], or an ARRAY[FLOAT64] rounded to float, such as {@code tokenizer.ggml.scores}.
     *
     * @param key the metadata key, such as {@code llama.context_length}
     * @return a new array, the caller's to keep
     * @throws GgufMetadataException when the key is missing or not an array of a float type
     */
    public float[] getFloatArray(String key) {
        GgufValue v = get(key);
        if (v.elementType() == GgufValueType.FLOAT32) {
            return ((float[]) v.value()).clone();
        }
        if (v.elementType() == GgufValueType.FLOAT64) {
            double[] d = (double[]) v.value();
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
        throw wrongType(key, "ARRAY[FLOAT32]", v);
    }

    /**
     * An integer array of any element width, converted to int; values outside the int range are an error.
     *
     * @param key the metadata key, such as {@code tokenizer.ggml.token_type}
     * @return a new array, the caller's to keep
     * @throws GgufMetadataException when the key is missing, not an integer array, or an element does not fit an int
     */
    public int[] getIntArray(String key) {
        GgufValue v = get(key);
        if (!v.isArray() || !v.elementType().isInteger()) {
            throw wrongType(key, "an integer array", v);
        }
        int[] out = new int[v.length()];
        for (int i = 0; i < out.length; i++) {
            long x = v.integerAt(i);
            if (x != (int) x) {
                throw new GgufMetadataException("metadata key '" + key + "' element " + i + " = " + x
                        + " is out of the 32-bit integer range");
            }
            out[i] = (int) x;
        }
        return out;
    }

    /**
     * llama.cpp's "scalar or per-layer array" keys (such as {@code feed_forward_length}): a scalar is repeated
     * {@code n} times; an array must have at least {@code n} elements.
     *
     * @param key the metadata key, such as {@code llama.feed_forward_length}
     * @param n   the number of values wanted, usually the block (layer) count
     * @return {@code n} values, one per layer; extra array elements are dropped
     * @throws GgufMetadataException when the key is missing, not an integer or integer array, a value does not fit
     *                               an int, or the array is shorter than {@code n}
     */
    public int[] getIntOrArray(String key, int n) {
        GgufValue v = get(key);
        if (!v.isArray()) {
            int[] out = new int[n];
            java.util.Arrays.fill(out, getInt(key));
            return out;
        }
        int[] a = getIntArray(key);
        if (a.length < n) {
            throw new GgufMetadataException("metadata key '" + key + "' has " + a.length + " elements, expected " + n);
        }
        return java.util.Arrays.copyOf(a, n);
    }

    private static GgufMetadataException wrongType(String key, String wanted, GgufValue v) {
        return new GgufMetadataException("metadata key '" + key + "' is " + v.typeName() + ", not " + wanted);
    }
}
