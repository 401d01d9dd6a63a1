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

    public GgufMetadata(Map<String, GgufValue> entries) {
        this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    public Map<String, GgufValue> asMap() {
        return entries;
    }

    public Set<String> keys() {
        return entries.keySet();
    }

    public int size() {
        return entries.size();
    }

    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    public GgufValue get(String key) {
        GgufValue v = entries.get(key);
        if (v == null) {
            throw new GgufMetadataException("metadata key '" + key + "' is missing");
        }
        return v;
    }

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

    public int getInt(String key) {
        long x = getLong(key);
        if (x != (int) x) {
            throw new GgufMetadataException("metadata key '" + key + "' holds " + get(key).typeName() + " " + x
                    + ", out of the 32-bit integer range");
        }
        return (int) x;
    }

    public int getInt(String key, int defaultValue) {
        return contains(key) ? getInt(key) : defaultValue;
    }

    public long getLong(String key, long defaultValue) {
        return contains(key) ? getLong(key) : defaultValue;
    }

    public float getFloat(String key) {
        GgufValue v = get(key);
        return switch (v.type()) {
            case FLOAT32 -> (Float) v.value();
            case FLOAT64 -> (float) (double) (Double) v.value();
            default -> throw wrongType(key, "FLOAT32", v);
        };
    }

    public float getFloat(String key, float defaultValue) {
        return contains(key) ? getFloat(key) : defaultValue;
    }

    public double getDouble(String key) {
        GgufValue v = get(key);
        return switch (v.type()) {
            case FLOAT32 -> (Float) v.value();
            case FLOAT64 -> (Double) v.value();
            default -> throw wrongType(key, "FLOAT64", v);
        };
    }

    public boolean getBool(String key) {
        GgufValue v = get(key);
        if (v.type() != GgufValueType.BOOL) {
            throw wrongType(key, "BOOL", v);
        }
        return (Boolean) v.value();
    }

    public boolean getBool(String key, boolean defaultValue) {
        return contains(key) ? getBool(key) : defaultValue;
    }

    public String getString(String key) {
        GgufValue v = get(key);
        if (v.type() != GgufValueType.STRING) {
            throw wrongType(key, "STRING", v);
        }
        return (String) v.value();
    }

    public String getString(String key, String defaultValue) {
        return contains(key) ? getString(key) : defaultValue;
    }

    public String[] getStringArray(String key) {
        GgufValue v = get(key);
        if (v.elementType() != GgufValueType.STRING) {
            throw wrongType(key, "ARRAY[STRING]", v);
        }
        return ((String[]) v.value()).clone();
    }

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

    /** An integer array of any element width, converted to int; values outside the int range are an error. */
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
