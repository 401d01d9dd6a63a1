package dev.vellama.runtime;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import dev.vellama.VellamaException;
import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;

/**
 * A control vector in llama.cpp's format: one direction per layer, added to the residual stream at that layer's
 * output ({@link Session#steer}). A file is a GGUF of F32 tensors {@code direction.N}, N ≥ 1 the layer, all of the
 * embedding width, as {@code llama-cvector-generator} writes; reading one multiplies it by a strength, and several
 * add up, as {@code --control-vector-scaled} does in llama.cpp. Immutable.
 */
public final class ControlVector {
    private final int embeddingLength;
    private final float[][] directions; // by layer; null where none (always at 0)

    private ControlVector(int embeddingLength, float[][] directions) {
        this.embeddingLength = embeddingLength;
        this.directions = directions;
    }

    /**
     * {@return a control vector of these directions}
     *
     * @param embeddingLength the width of every direction
     * @param directions      layer (≥ 1) to its direction
     * @throws IllegalArgumentException for layer 0 (llama.cpp has no direction there), a negative layer, or a
     *                                  direction of another width
     */
    public static ControlVector of(int embeddingLength, Map<Integer, float[]> directions) {
        int top = directions.keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
        float[][] d = new float[top + 1][];
        for (Map.Entry<Integer, float[]> e : new TreeMap<>(directions).entrySet()) {
            if (e.getKey() < 1) {
                throw new IllegalArgumentException("a control vector has directions for layers 1 and up, not " + e.getKey());
            }
            if (e.getValue().length != embeddingLength) {
                throw new IllegalArgumentException("direction of layer " + e.getKey() + " has " + e.getValue().length
                        + " values, not " + embeddingLength);
            }
            d[e.getKey()] = e.getValue().clone();
        }
        return new ControlVector(embeddingLength, d);
    }

    /**
     * Reads a control vector file, each direction multiplied by {@code strength}.
     *
     * @param file     the GGUF file
     * @param strength the factor, as llama.cpp's {@code --control-vector-scaled}
     * @return the vector
     * @throws VellamaException when the file cannot be read or is not a control vector: a tensor not named
     *                          {@code direction.N} with N ≥ 1, not F32, not one-dimensional, or of another width
     */
    public static ControlVector read(Path file, float strength) {
        try (GgufFile gguf = GgufFile.open(file)) {
            int width = -1;
            Map<Integer, float[]> dirs = new TreeMap<>();
            for (GgufTensor t : gguf.tensors()) {
                int layer = layerOf(t.name());
                if (layer < 1) {
                    throw new VellamaException(file + ": tensor '" + t.name() + "' is not a control vector direction (direction.N, N >= 1)");
                }
                if (t.type() != GgmlType.F32 || t.dimensions() != 1) {
                    throw new VellamaException(file + ": direction tensor '" + t.name() + "' must be one-dimensional F32");
                }
                if (width == -1) {
                    width = (int) t.elementCount();
                } else if (t.elementCount() != width) {
                    throw new VellamaException(file + ": direction tensor '" + t.name() + "' has " + t.elementCount()
                            + " values, the others " + width);
                }
                float[] v = dirs.computeIfAbsent(layer, l -> new float[(int) t.elementCount()]);
                for (int i = 0; i < v.length; i++) {
                    // several directions for one layer add up, as llama.cpp allows
                    v[i] += t.data().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i) * strength;
                }
            }
            if (width == -1) {
                throw new VellamaException(file + ": no direction tensors in this file");
            }
            return of(width, dirs);
        } catch (IOException e) {
            throw new VellamaException("cannot read control vector " + file + ": " + e.getMessage(), e);
        } catch (dev.vellama.gguf.GgufFormatException e) {
            throw new VellamaException("control vector " + file + ": " + e.getMessage(), e);
        }
    }

    /** The N of {@code direction.N}, or −1. */
    private static int layerOf(String name) {
        if (!name.startsWith("direction.")) {
            return -1;
        }
        try {
            return Integer.parseInt(name.substring("direction.".length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * {@return this vector plus {@code other}, layer by layer} (as llama.cpp adds several control vector files)
     *
     * @param other a vector of the same width
     */
    public ControlVector plus(ControlVector other) {
        if (other.embeddingLength != embeddingLength) {
            throw new VellamaException("control vectors of width " + embeddingLength + " and " + other.embeddingLength + " do not add up");
        }
        float[][] d = new float[Math.max(directions.length, other.directions.length)][];
        for (int l = 0; l < d.length; l++) {
            float[] a = l < directions.length ? directions[l] : null;
            float[] b = l < other.directions.length ? other.directions[l] : null;
            if (a == null || b == null) {
                d[l] = a != null ? a : b;
            } else {
                d[l] = new float[embeddingLength];
                for (int i = 0; i < embeddingLength; i++) {
                    d[l][i] = a[i] + b[i];
                }
            }
        }
        return new ControlVector(embeddingLength, d);
    }

    /**
     * {@return this vector with every direction multiplied by {@code factor}}
     *
     * @param factor the factor
     */
    public ControlVector scaled(float factor) {
        float[][] d = new float[directions.length][];
        for (int l = 0; l < d.length; l++) {
            if (directions[l] != null) {
                d[l] = directions[l].clone();
                for (int i = 0; i < d[l].length; i++) {
                    d[l][i] *= factor;
                }
            }
        }
        return new ControlVector(embeddingLength, d);
    }

    /** {@return the width of the directions} */
    public int embeddingLength() {
        return embeddingLength;
    }

    /** {@return the highest layer with a direction, or 0 for none} */
    public int lastLayer() {
        for (int l = directions.length - 1; l > 0; l--) {
            if (directions[l] != null) {
                return l;
            }
        }
        return 0;
    }

    /**
     * {@return a copy of layer {@code layer}'s direction, or null where it has none}
     *
     * @param layer the layer
     */
    public float[] direction(int layer) {
        return layer >= 0 && layer < directions.length && directions[layer] != null ? directions[layer].clone() : null;
    }

    /** Layer {@code layer}'s direction itself, for the pass to add without copying; null where none. */
    float[] directionView(int layer) {
        return layer >= 0 && layer < directions.length ? directions[layer] : null;
    }

    /**
     * Writes the vector as llama-cvector-generator does: architecture {@code controlvector}, the model's
     * architecture as a hint, the number of directions as the layer count, and one F32 tensor {@code direction.N}
     * per layer that has one.
     *
     * @param file              where to write
     * @param modelArchitecture the model's {@code general.architecture}, as a hint for readers
     * @throws IOException when the file cannot be written
     */
    public void write(Path file, String modelArchitecture) throws IOException {
        int count = 0;
        for (float[] d : directions) {
            count += d != null ? 1 : 0;
        }
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.string("controlvector"))
                .put("controlvector.model_hint", GgufValue.string(modelArchitecture))
                .put("controlvector.layer_count", GgufValue.int32(count));
        for (int l = 1; l < directions.length; l++) {
            if (directions[l] != null) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * embeddingLength).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(directions[l]);
                w.addTensor("direction." + l, GgmlType.F32, new long[] {embeddingLength}, b.array());
            }
        }
        w.write(file);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ControlVector v && v.embeddingLength == embeddingLength && Arrays.deepEquals(trim(), v.trim());
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(trim());
    }

    private float[][] trim() {
        return Arrays.copyOf(directions, lastLayer() + 1);
    }
}
