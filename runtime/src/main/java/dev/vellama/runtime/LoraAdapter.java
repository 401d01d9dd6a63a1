package dev.vellama.runtime;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.quant.WeightMatrix;
import dev.vellama.runtime.model.LoraProducts;

/**
 * A LoRA adapter in llama.cpp's GGUF form ({@code convert_lora_to_gguf.py}: {@code general.type = adapter},
 * {@code adapter.type = lora}, {@code adapter.lora.alpha}, and for each adapted weight {@code NAME.lora_a} of shape
 * [in, r] and {@code NAME.lora_b} of shape [r, out]). Applied with a scale s, a weight W multiplies as
 * W·x + s·(alpha / r)·B·(A·x) (s alone when alpha is 0), computed beside the base weights at every product as
 * llama.cpp does, never merged into them, so the base model stays as it is and one model serves with and without.
 * The pairs are read into floats (B transposed) when it is loaded, and the file closed.
 */
public final class LoraAdapter {
    /**
     * An adapter and the scale it is applied with (llama.cpp's {@code --lora-scaled FILE SCALE}; 1 for {@code --lora}).
     *
     * @param adapter the adapter
     * @param scale   its strength: 0 turns it off, 1 applies it as trained
     */
    public record Applied(LoraAdapter adapter, float scale) {
        /** Checks the pair: an adapter, and a finite scale. */
        public Applied {
            Objects.requireNonNull(adapter);
            if (!Float.isFinite(scale)) {
                throw new IllegalArgumentException("a LoRA scale must be a finite number, not " + scale);
            }
        }
    }

    /**
     * One adapted weight: its down projection A (r rows of the weight's input width) and its up projection B
     * transposed (r rows of the output width), as floats.
     */
    record Pair(float[] a, float[] bt, int rank, int in, int out) {
        /** Reads a pair's matrices as floats, whatever their type. */
        static Pair of(WeightMatrix a, WeightMatrix b) {
            int r = a.rows();
            int in = a.cols();
            int out = b.rows();
            float[] down = new float[r * in];
            for (int k = 0; k < r; k++) {
                dev.vellama.quant.Dequantizer.dequantizeRow(a, k, down, k * in);
            }
            float[] row = new float[r];
            float[] bt = new float[r * out];
            for (int o = 0; o < out; o++) {
                dev.vellama.quant.Dequantizer.dequantizeRow(b, o, row, 0);
                for (int k = 0; k < r; k++) {
                    bt[k * out + o] = row[k];
                }
            }
            return new Pair(down, bt, r, in, out);
        }
    }

    private final Path path;
    private final float alpha;
    private final Map<String, Pair> pairs;

    private LoraAdapter(Path path, float alpha, Map<String, Pair> pairs) {
        this.path = path;
        this.alpha = alpha;
        this.pairs = pairs;
    }

    /**
     * Reads an adapter for {@code model}: checks that it is a LoRA adapter of the model's architecture and that
     * each pair fits the weight it adapts.
     *
     * @param model the base model the adapter was trained on
     * @param path  the adapter's GGUF file
     * @return the adapter, its file mapped
     * @throws IOException      if the file cannot be read
     * @throws AdapterException if it is not a LoRA adapter, is for another architecture, names a weight the model
     *                          lacks, a pair is incomplete, of the wrong shape or type, or adapts the token embeddings
     *                          or mixture-of-experts weights (not supported)
     */
    public static LoraAdapter load(Model model, Path path) throws IOException {
        GgufFile file;
        try {
            file = GgufFile.open(path);
        } catch (dev.vellama.gguf.GgufFormatException e) {
            throw new AdapterException(path + " is not a GGUF file: " + e.getMessage());
        }
        try (file) { // the pairs are read into floats: the file is not needed after
            return read(model, file, path);
        }
    }

    private static LoraAdapter read(Model model, GgufFile file, Path path) {
        var meta = file.metadata();
        String type = meta.getString("general.type", "");
        String adapterType = meta.getString("adapter.type", "");
        if (!type.equals("adapter") || !adapterType.equals("lora")) {
            throw new AdapterException(path + " is not a LoRA adapter (general.type '" + type + "', adapter.type '"
                    + adapterType + "'; llama.cpp's convert_lora_to_gguf.py writes 'adapter' and 'lora')");
        }
        String arch = file.architecture();
        String modelArch = model.file().architecture();
        if (arch != null && modelArch != null && !arch.equals(modelArch)) {
            throw new AdapterException(path + " is an adapter for " + arch + " models, not for this " + modelArch + " model");
        }
        float alpha = meta.getFloat("adapter.lora.alpha", 0f);
        if (!Float.isFinite(alpha) || alpha < 0) {
            throw new AdapterException(path + " has an adapter.lora.alpha of " + alpha);
        }
        Map<String, GgufTensor> as = new LinkedHashMap<>();
        Map<String, GgufTensor> bs = new LinkedHashMap<>();
        for (GgufTensor t : file.tensors()) {
            if (t.name().endsWith(".lora_a")) {
                as.put(t.name().substring(0, t.name().length() - 7), t);
            } else if (t.name().endsWith(".lora_b")) {
                bs.put(t.name().substring(0, t.name().length() - 7), t);
            } else {
                throw new AdapterException(path + " holds " + t.name() + ", which is neither a .lora_a nor a .lora_b tensor");
            }
        }
        if (as.isEmpty()) {
            throw new AdapterException(path + " adapts no weight: it has no .lora_a/.lora_b tensors");
        }
        Map<String, Pair> pairs = new LinkedHashMap<>();
        for (Map.Entry<String, GgufTensor> e : as.entrySet()) {
            String name = e.getKey();
            GgufTensor a = e.getValue();
            GgufTensor b = bs.remove(name);
            if (b == null) {
                throw new AdapterException(path + " has " + name + ".lora_a but no " + name + ".lora_b");
            }
            if (name.startsWith("token_embd.") || name.contains("_exps.")) {
                throw new AdapterException(path + " adapts " + name + ": LoRA on the token embeddings and on"
                        + " mixture-of-experts weights is not supported");
            }
            if (!model.file().hasTensor(name)) {
                throw new AdapterException(path + " adapts " + name + ", which this model does not have");
            }
            GgufTensor base = model.file().tensor(name);
            long in = base.columns();
            long out = base.rows();
            if (a.dimensions() != 2 || b.dimensions() != 2 || a.dim(0) != in || b.dim(1) != out || a.dim(1) != b.dim(0)
                    || a.dim(1) < 1) {
                throw new AdapterException(path + ": the pair for " + name + " has shapes " + shape(a) + " and "
                        + shape(b) + ", not [" + in + ", r] and [r, " + out + "] for the weight's " + shape(base));
            }
            // the pair becomes floats on the heap: refuse what cannot fit rather than fail allocating it
            long floats = Math.max(a.dim(1) * in, a.dim(1) * out);
            Runtime rt = Runtime.getRuntime();
            long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
            if (floats > Integer.MAX_VALUE - 8 || 4 * a.dim(1) * (in + out) > free) {
                throw new AdapterException(String.format("%s: the pair for %s (rank %d) needs %d MiB of Java heap as"
                        + " floats, and %d MiB are free", path, name, a.dim(1), 4 * a.dim(1) * (in + out) >> 20, free >> 20));
            }
            try {
                pairs.put(name, Pair.of(WeightMatrix.of(a), WeightMatrix.of(b)));
            } catch (RuntimeException ex) { // a type without kernels, a row that is not whole blocks
                throw new AdapterException(path + ": the pair for " + name + " cannot be used: " + ex.getMessage());
            }
        }
        if (!bs.isEmpty()) {
            throw new AdapterException(path + " has " + bs.keySet().iterator().next() + ".lora_b but no .lora_a");
        }
        return new LoraAdapter(path, alpha, Map.copyOf(pairs));
    }

    private static String shape(GgufTensor t) {
        return java.util.Arrays.toString(t.shape());
    }

    /** {@return the file it was read from} */
    public Path path() {
        return path;
    }

    /** {@return its alpha (0 when the file has none: the scale is then applied as it is)} */
    public float alpha() {
        return alpha;
    }

    /** {@return the names of the weights it adapts, as in the model's file} */
    public java.util.Set<String> weights() {
        return pairs.keySet();
    }

    /**
     * The products a forward pass adds for these adapters, each at its scale by default: for each adapted weight its
     * pairs with their alpha / r (1 when alpha is 0); null for no adapters.
     */
    static LoraProducts products(java.util.List<Applied> applied, dev.vellama.quant.Kernels serial) {
        if (applied.isEmpty()) {
            return null;
        }
        Map<String, java.util.List<LoraProducts.Term>> terms = new java.util.HashMap<>();
        float[] defaults = new float[applied.size()];
        for (int i = 0; i < applied.size(); i++) {
            LoraAdapter adapter = applied.get(i).adapter();
            defaults[i] = applied.get(i).scale();
            for (Map.Entry<String, Pair> e : adapter.pairs.entrySet()) {
                Pair p = e.getValue();
                float base = adapter.alpha == 0 ? 1f : adapter.alpha / p.rank();
                terms.computeIfAbsent(e.getKey(), k -> new java.util.ArrayList<>())
                        .add(new LoraProducts.Term(p.a(), p.bt(), p.rank(), p.in(), p.out(), i, base));
            }
        }
        return new LoraProducts(terms, defaults, serial);
    }
}
