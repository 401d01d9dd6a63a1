package dev.vellama.runtime;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import dev.vellama.VellamaException;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.Dequantizer;

/**
 * llama-imatrix's importance matrix: for each weight matrix, the mean square of the activations each of its columns
 * met, which llama-quantize uses to weight its fits. Read from either file llama-imatrix writes: the older binary
 * {@code .dat} (entries of name, call count and sums, divided by the count as llama-quantize divides them), or the
 * GGUF form ({@code <name>.in_sum2} and {@code <name>.counts} tensors).
 */
public final class ImportanceMatrix {
    private final Map<String, float[]> values;
    private final String source;
    private final String dataset;
    private final int chunks;

    private ImportanceMatrix(Map<String, float[]> values, String source, String dataset, int chunks) {
        this.values = values;
        this.source = source;
        this.dataset = dataset;
        this.chunks = chunks;
    }

    /** {@return the file it was read from, as given (llama-quantize records it in the model's metadata)} */
    public String source() {
        return source;
    }

    /** {@return the text llama-imatrix computed it on, or "" when the file does not say} */
    public String dataset() {
        return dataset;
    }

    /** {@return how many chunks it was computed on, or 0 when the file does not say} */
    public int chunks() {
        return chunks;
    }

    /**
     * The importances of tensor {@code name}'s columns (per expert, one after another), or null when it has none.
     *
     * @param name the weight tensor's GGUF name, e.g. {@code blk.0.attn_q.weight}
     * @return the mean squared activations, one per column (the matrix's own array: do not modify it); null when
     *         the file has no entry for the tensor
     */
    public float[] of(String name) {
        return values.get(name);
    }

    /** {@return how many tensors it has importances for} */
    public int size() {
        return values.size();
    }

    /** {@return the names of the tensors it has importances for, as an unmodifiable view} */
    public java.util.Set<String> names() {
        return java.util.Collections.unmodifiableSet(values.keySet());
    }

    /**
     * Reads either form.
     *
     * @param path a {@code .dat} or GGUF file written by llama-imatrix (the form is told by the GGUF magic)
     * @return the importances, averaged over the calls each entry counts
     * @throws VellamaException for a missing, cut or malformed file, naming what is wrong
     */
    public static ImportanceMatrix read(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            byte[] magic = in.readNBytes(4);
            if (magic.length == 4 && new String(magic, StandardCharsets.US_ASCII).equals("GGUF")) {
                return readGguf(path);
            }
        } catch (NoSuchFileException e) {
            throw new VellamaException("no such file: " + path);
        } catch (IOException e) {
            throw new VellamaException("cannot read " + path + ": " + e.getMessage(), e);
        }
        return readDat(path);
    }

    private static ImportanceMatrix readDat(Path path) {
        Map<String, float[]> out = new HashMap<>();
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(path)))) {
            int entries = Integer.reverseBytes(in.readInt());
            if (entries < 1 || entries > 1_000_000) {
                throw new VellamaException(path + " is not an importance matrix (" + entries + " entries)");
            }
            for (int i = 0; i < entries; i++) {
                int len = Integer.reverseBytes(in.readInt());
                if (len < 1 || len > 4096) {
                    throw new VellamaException(path + ": entry " + i + " has a name of " + len + " bytes");
                }
                String name = new String(in.readNBytes(len), StandardCharsets.UTF_8);
                int calls = Integer.reverseBytes(in.readInt());
                int n = Integer.reverseBytes(in.readInt());
                if (n < 1 || n > 1 << 26) {
                    throw new VellamaException(path + ": entry " + name + " has " + n + " values");
                }
                byte[] raw = in.readNBytes(4 * n);
                if (raw.length != 4 * n) {
                    throw new EOFException();
                }
                float[] v = new float[n];
                ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
                if (calls > 0) {
                    for (int j = 0; j < n; j++) {
                        v[j] /= calls;
                    }
                }
                check(path, name, v);
                out.put(name, v);
            }
            // newer files end with the chunk count and the dataset's name
            byte[] tail = in.readAllBytes();
            if (tail.length >= 8) {
                ByteBuffer b = ByteBuffer.wrap(tail).order(ByteOrder.LITTLE_ENDIAN);
                int lastCall = b.getInt();
                int len = b.getInt();
                if (len >= 0 && len <= b.remaining()) {
                    byte[] name = new byte[len];
                    b.get(name);
                    return new ImportanceMatrix(out, path.toString(), new String(name, StandardCharsets.UTF_8), lastCall);
                }
            }
        } catch (EOFException e) {
            throw new VellamaException(path + " ends inside an entry (a cut file)");
        } catch (IOException e) {
            throw new VellamaException("cannot read " + path + ": " + e.getMessage(), e);
        }
        return new ImportanceMatrix(out, path.toString(), "", 0);
    }

    private static ImportanceMatrix readGguf(Path path) {
        Map<String, float[]> out = new HashMap<>();
        try (GgufFile f = GgufFile.open(path)) {
            for (GgufTensor t : f.tensors()) {
                if (!t.name().endsWith(".in_sum2")) {
                    continue;
                }
                String name = t.name().substring(0, t.name().length() - ".in_sum2".length());
                String countsName = name + ".counts";
                if (!f.hasTensor(countsName)) {
                    throw new VellamaException(path + ": " + name + " has sums but no counts");
                }
                float[] sums = new float[(int) t.elementCount()];
                Dequantizer.dequantize(t.type(), t.data(), 0, sums, 0, sums.length);
                GgufTensor c = f.tensor(countsName);
                float[] counts = new float[(int) c.elementCount()];
                Dequantizer.dequantize(c.type(), c.data(), 0, counts, 0, counts.length);
                int perMatrix = sums.length / Math.max(1, counts.length);
                for (int m = 0; m < counts.length; m++) {
                    if (counts[m] > 0) {
                        for (int j = 0; j < perMatrix; j++) {
                            sums[m * perMatrix + j] /= counts[m];
                        }
                    }
                }
                check(path, name, sums);
                out.put(name, sums);
            }
        } catch (IOException e) {
            throw new VellamaException("cannot read " + path + ": " + e.getMessage(), e);
        }
        if (out.isEmpty()) {
            throw new VellamaException(path + " is a GGUF without importance data (no *.in_sum2 tensors)");
        }
        String dataset = "";
        int chunks = 0;
        try (GgufFile f = GgufFile.open(path)) {
            String[] sets = f.metadata().contains("imatrix.datasets") ? f.metadata().getStringArray("imatrix.datasets") : new String[0];
            dataset = sets.length > 0 ? sets[0] : "";
            chunks = f.metadata().getInt("imatrix.chunk_count", 0);
        } catch (IOException | RuntimeException e) {
            // the metadata is a record only; the importances were read
        }
        return new ImportanceMatrix(out, path.toString(), dataset, chunks);
    }

    private static void check(Path path, String name, float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                throw new VellamaException(path + ": the importance of " + name + " holds " + x + ", not a finite number");
            }
        }
    }
}
