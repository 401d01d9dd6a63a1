package dev.vellama.runtime;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.vellama.VellamaException;
import dev.vellama.gguf.GgmlType;
import dev.vellama.gguf.GgufFile;
import dev.vellama.gguf.GgufTensor;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufWriter;
import dev.vellama.quant.Dequantizer;
import dev.vellama.quant.Quantizer;

/**
 * A model file re-written in another tensor type, as llama-quantize writes it: the same tensors in its order (by
 * layer, then name), the metadata copied with {@code general.file_type} and {@code general.quantization_version}
 * set, and for the mixed presets llama.cpp's choice per tensor (the output matrix in Q6_K, more bits for some
 * layers' {@code attn_v} and {@code ffn_down}, fallbacks when a row does not divide into blocks). Tensors are read,
 * converted row by row on several threads and written one at a time, so a model never sits in memory whole.
 */
public final class ModelQuantizer {
    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    private ModelQuantizer() {}

    /** llama.cpp's file types ({@code LLAMA_FTYPE_*}) that llama-quantize offers, with the type most tensors get. */
    public enum FileType {
        /** 32-bit floats throughout, nothing quantized ({@code LLAMA_FTYPE_ALL_F32}). */
        F32(0, GgmlType.F32),
        /** IEEE half precision for the weight matrices, 16 bits per weight. */
        F16(1, GgmlType.F16),
        /** bfloat16 for the weight matrices, 16 bits per weight with F32's exponent range. */
        BF16(32, GgmlType.BF16),
        /** Blocks of 32 4-bit weights with one scale, 4.5 bits per weight. */
        Q4_0(2, GgmlType.Q4_0),
        /** Blocks of 32 4-bit weights with a scale and a minimum, 5 bits per weight. */
        Q4_1(3, GgmlType.Q4_1),
        /** Blocks of 32 5-bit weights with one scale, 5.5 bits per weight. */
        Q5_0(8, GgmlType.Q5_0),
        /** Blocks of 32 5-bit weights with a scale and a minimum, 6 bits per weight. */
        Q5_1(9, GgmlType.Q5_1),
        /** Blocks of 32 8-bit weights with one scale, 8.5 bits per weight; nearly lossless. */
        Q8_0(7, GgmlType.Q8_0),
        /** The 6-bit k-quant throughout, 6.5625 bits per weight. */
        Q6_K(18, GgmlType.Q6_K),
        /** Mostly Q4_K, with Q6_K for about half the layers' {@code attn_v} and {@code ffn_down}; the usual choice. */
        Q4_K_M(15, GgmlType.Q4_K),
        /** Mostly Q4_K, with Q5_K for the first four {@code attn_v} and the first eighth of the {@code ffn_down}. */
        Q4_K_S(14, GgmlType.Q4_K),
        /** Q5_K throughout, but for the output matrix. */
        Q5_K_S(16, GgmlType.Q5_K),
        /** Mostly Q5_K, with Q6_K for about half the layers' {@code attn_v} and {@code ffn_down}. */
        Q5_K_M(17, GgmlType.Q5_K),
        /** Mostly Q2_K, with Q3_K or Q4_K for {@code attn_v} and Q3_K for {@code ffn_down} and {@code attn_output}. */
        Q2_K(10, GgmlType.Q2_K),
        /** Q3_K throughout, but for the output matrix. */
        Q3_K_S(11, GgmlType.Q3_K),
        /** Mostly Q3_K, with Q4_K or Q5_K for {@code attn_v}, {@code ffn_down} and {@code attn_output}. */
        Q3_K_M(12, GgmlType.Q3_K),
        /** Mostly Q3_K, with Q5_K for {@code attn_v}, {@code ffn_down} and {@code attn_output}. */
        Q3_K_L(13, GgmlType.Q3_K),
        /** Non-linear 4-bit blocks of 32, 4.5 bits per weight; Q5_K for some {@code attn_v} and {@code ffn_down}. */
        IQ4_NL(25, GgmlType.IQ4_NL),
        /** Non-linear 4-bit blocks of 256, 4.25 bits per weight; Q5_K for some {@code attn_v}, {@code ffn_down}. */
        IQ4_XS(30, GgmlType.IQ4_XS),
        /** gpt-oss's mix: the stacked expert tensors in MXFP4, every other matrix (the output too) in Q8_0. */
        MXFP4_MOE(38, GgmlType.MXFP4);

        final int id;
        final GgmlType base;

        FileType(int id, GgmlType base) {
            this.id = id;
            this.base = base;
        }

        /**
         * llama-quantize's name or number for a type ({@code Q4_K_M}, {@code q4_k_m}, {@code 15}).
         *
         * @param name a constant's name in any case, or its {@code LLAMA_FTYPE_*} number in decimal
         * @return the file type
         * @throws VellamaException if no file type has that name or number
         */
        public static FileType parse(String name) {
            for (FileType t : values()) {
                if (t.name().equalsIgnoreCase(name) || String.valueOf(t.id).equals(name)) {
                    return t;
                }
            }
            throw new VellamaException("unknown quantization type '" + name + "' (llama-quantize's names: Q4_0, Q4_1, "
                    + "Q5_0, Q5_1, Q8_0, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K, IQ4_NL, IQ4_XS, MXFP4_MOE, "
                    + "F16, BF16, F32)");
        }
    }

    /**
     * What to write: the file type; {@code pure} gives every quantized tensor the base type (llama-quantize's
     * {@code --pure}); explicit types for the output and token-embedding matrices (null: as llama.cpp chooses);
     * whether quantized inputs may be re-quantized; the thread count.
     *
     * @param type               the file type, which gives most tensors' type and the per-tensor mix
     * @param pure               give every quantized tensor the file type's base type, with none of the mix
     *                           (llama-quantize's {@code --pure})
     * @param outputType         type of {@code output.weight}; null: as llama.cpp chooses (llama-quantize's
     *                           {@code --output-tensor-type})
     * @param tokenEmbeddingType type of {@code token_embd.weight}; null: as llama.cpp chooses (llama-quantize's
     *                           {@code --token-embedding-type})
     * @param allowRequantize    convert tensors that are already quantized (llama-quantize's
     *                           {@code --allow-requantize}); otherwise such a tensor is refused
     * @param leaveOutputTensor  copy {@code output.weight} unchanged (llama-quantize's
     *                           {@code --leave-output-tensor})
     * @param threads            threads converting a tensor's rows; below 1 counts as 1
     * @param imatrix            importances that weight the quantization error per column (llama-quantize's
     *                           {@code --imatrix}); null for none
     */
    public record Options(FileType type, boolean pure, GgmlType outputType, GgmlType tokenEmbeddingType,
                          boolean allowRequantize, boolean leaveOutputTensor, int threads, ImportanceMatrix imatrix) {
        /**
         * The defaults for a file type: llama.cpp's mix, no explicit types, no requantizing, one thread per
         * available processor, no importance matrix.
         *
         * @param type the file type to write
         * @return the options
         */
        public static Options of(FileType type) {
            return new Options(type, false, null, null, false, false, Runtime.getRuntime().availableProcessors(), null);
        }

        /**
         * A copy with another {@link #pure()}.
         *
         * @param b true for the base type on every quantized tensor
         * @return the new options
         */
        public Options withPure(boolean b) { return new Options(type, b, outputType, tokenEmbeddingType, allowRequantize, leaveOutputTensor, threads, imatrix); }
        /**
         * A copy with another {@link #outputType()}.
         *
         * @param t type of {@code output.weight}; null: as llama.cpp chooses
         * @return the new options
         */
        public Options withOutputType(GgmlType t) { return new Options(type, pure, t, tokenEmbeddingType, allowRequantize, leaveOutputTensor, threads, imatrix); }
        /**
         * A copy with another {@link #tokenEmbeddingType()}.
         *
         * @param t type of {@code token_embd.weight}; null: as llama.cpp chooses
         * @return the new options
         */
        public Options withTokenEmbeddingType(GgmlType t) { return new Options(type, pure, outputType, t, allowRequantize, leaveOutputTensor, threads, imatrix); }
        /**
         * A copy with another {@link #allowRequantize()}.
         *
         * @param b true to convert tensors that are already quantized
         * @return the new options
         */
        public Options withAllowRequantize(boolean b) { return new Options(type, pure, outputType, tokenEmbeddingType, b, leaveOutputTensor, threads, imatrix); }
        /**
         * A copy with another {@link #leaveOutputTensor()}.
         *
         * @param b true to copy {@code output.weight} unchanged
         * @return the new options
         */
        public Options withLeaveOutputTensor(boolean b) { return new Options(type, pure, outputType, tokenEmbeddingType, allowRequantize, b, threads, imatrix); }
        /**
         * A copy with another {@link #threads()}.
         *
         * @param n threads converting a tensor's rows; below 1 counts as 1
         * @return the new options
         */
        public Options withThreads(int n) { return new Options(type, pure, outputType, tokenEmbeddingType, allowRequantize, leaveOutputTensor, n, imatrix); }
        /**
         * Quantize guided by llama-imatrix's importances (llama-quantize's {@code --imatrix}).
         *
         * @param m the importance matrix; null to quantize without one
         * @return the new options
         */
        public Options withImatrix(ImportanceMatrix m) { return new Options(type, pure, outputType, tokenEmbeddingType, allowRequantize, leaveOutputTensor, threads, m); }
    }

    /**
     * One tensor as written: what it was, what it became, and the sizes.
     *
     * @param index    position of the tensor in the output, from 1
     * @param count    number of tensors in the output
     * @param name     the tensor's GGUF name, such as {@code blk.0.attn_v.weight}
     * @param from     its type in the input
     * @param to       its type in the output (the same when copied unchanged)
     * @param bytesIn  its data's size in the input, in bytes
     * @param bytesOut its data's size in the output, in bytes
     */
    public record Converted(int index, int count, String name, GgmlType from, GgmlType to, long bytesIn, long bytesOut) {}

    /** The tensor types this build can write. */
    private static boolean writable(GgmlType t) {
        return Quantizer.canQuantize(t);
    }

    /**
     * Writes {@code in} as {@code out} in {@code options.type()}, telling {@code progress} of each tensor.
     *
     * @param in       the GGUF model to read
     * @param out      the GGUF file to write
     * @param options  the file type and the choices that go with it
     * @param progress told of each tensor, in output order, once its data is converted or copied
     * @throws IOException      if the input cannot be read or the output written
     * @throws VellamaException for a quantized input without {@code allowRequantize}, an explicit tensor type
     *                          with no quantizer, or a tensor whose rows do not divide into blocks
     */
    public static void quantize(Path in, Path out, Options options, Consumer<Converted> progress) throws IOException {
        FileType ft = options.type();
        for (GgmlType t : new GgmlType[] {options.outputType(), options.tokenEmbeddingType()}) {
            if (t != null && !writable(t)) {
                throw new VellamaException("Vellama cannot write " + t + " tensors yet");
            }
        }
        try (GgufFile file = GgufFile.open(in); Arena arena = Arena.ofConfined()) {
            String arch = file.architecture();
            int layers = file.metadata().getInt(arch + ".block_count", 0);
            List<GgufTensor> tensors = new ArrayList<>(file.tensors());
            tensors.sort(Comparator.comparingInt(ModelQuantizer::layerOf).thenComparing(GgufTensor::name));
            State state = new State(layers);
            state.is70b = arch.equals("llama") && layers == 80; // llama.cpp's LLM_TYPE_70B for this architecture
            int heads = file.metadata().contains(arch + ".attention.head_count")
                    ? file.metadata().getIntOrArray(arch + ".attention.head_count", Math.max(1, layers))[0] : 1;
            int kvHeads = file.metadata().contains(arch + ".attention.head_count_kv")
                    ? file.metadata().getIntOrArray(arch + ".attention.head_count_kv", Math.max(1, layers))[0] : heads;
            state.gqa = kvHeads > 0 ? heads / kvHeads : 1;
            for (GgufTensor t : tensors) {
                if (t.name().contains("attn_v.weight") || t.name().contains("attn_qkv.weight") || t.name().contains("attn_kv_b.weight")) {
                    state.attentionWv++;
                } else if (t.name().equals("output.weight")) {
                    state.hasOutput = true;
                }
            }
            GgufWriter writer = new GgufWriter().putAll(file.metadata());
            writer.put("general.quantization_version", GgufValue.uint32(2));
            writer.put("general.file_type", GgufValue.uint32(ft.id));
            writer.remove("split.no").remove("split.count").remove("split.tensors.count");
            ImportanceMatrix im = options.imatrix();
            if (im != null) { // what llama-quantize records of the importance matrix it used
                writer.put("quantize.imatrix.file", GgufValue.string(truncate(im.source())));
                if (!im.dataset().isEmpty()) {
                    writer.put("quantize.imatrix.dataset", GgufValue.string(truncate(im.dataset())));
                }
                writer.put("quantize.imatrix.entries_count", GgufValue.int32(im.size()));
                if (im.chunks() > 0) {
                    writer.put("quantize.imatrix.chunks_count", GgufValue.int32(im.chunks()));
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, options.threads()), r -> {
                Thread th = new Thread(r, "vellama-quantize");
                th.setDaemon(true);
                return th;
            });
            try {
                for (int i = 0; i < tensors.size(); i++) {
                    GgufTensor t = tensors.get(i);
                    GgmlType to = targetType(t, options, state);
                    if (to != t.type() && t.type().isQuantized() && !options.allowRequantize()) {
                        throw new VellamaException("tensor " + t.name() + " is already " + t.type()
                                + "; requantizing loses precision, give --allow-requantize to do it anyway");
                    }
                    if (to != t.type() && !writable(to)) {
                        throw new VellamaException("tensor " + t.name() + " would be " + to + ", which Vellama cannot write yet");
                    }
                    if (t.shape()[0] % to.blockSize() != 0) {
                        throw new VellamaException("tensor " + t.name() + " has rows of " + t.shape()[0] + " values, not a multiple of "
                                + to + "'s block of " + to.blockSize());
                    }
                    Converted c = new Converted(i + 1, tensors.size(), t.name(), t.type(), to, t.byteSize(),
                            to.byteSize(t.elementCount()));
                    float[] importance = to != t.type() ? importanceOf(t, options.imatrix()) : null;
                    if (importance != null && !dev.vellama.quant.WeightedQuantizer.supports(to)) {
                        throw new VellamaException("tensor " + t.name() + " would be " + to + ", which Vellama cannot yet quantize "
                                + "with an importance matrix");
                    }
                    if (to == t.type()) {
                        writer.addTensor(t.name(), to, t.shape(), target -> {
                            MemorySegment.copy(t.data(), 0, target, 0, t.byteSize());
                            progress.accept(c);
                        });
                    } else {
                        writer.addTensor(t.name(), to, t.shape(), target -> {
                            convert(t, to, importance, target, pool, options.threads());
                            progress.accept(c);
                        });
                    }
                }
                writer.write(out);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** llama-quantize keeps 127 bytes of these strings. */
    private static String truncate(String s) {
        byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return b.length <= 127 ? s : new String(java.util.Arrays.copyOf(b, 127), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Counters llama.cpp keeps while choosing types: which attn_v / ffn_down of how many. */
    private static final class State {
        final int ffnDown;
        boolean is70b;
        int gqa = 1;
        int attentionWv;
        int iAttentionWv;
        int iFfnDown;
        boolean hasOutput;

        State(int layers) {
            this.ffnDown = layers;
        }
    }

    private static int layerOf(GgufTensor t) {
        Matcher m = LAYER.matcher(t.name());
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Whether llama-quantize converts this tensor at all (2-D or more weights, not norms, not a few special ones). */
    private static boolean quantizable(GgufTensor t, Options o) {
        String n = t.name();
        return n.endsWith("weight") && t.dimensions() >= 2 && !n.contains("_norm.weight")
                && (!o.leaveOutputTensor() || !n.equals("output.weight")) && !n.contains("ffn_gate_inp.weight")
                && !n.equals("position_embd.weight") && !n.equals("token_types.weight") && !n.contains("ssm_conv1d.weight")
                && !n.contains("attn_rel_b.weight");
    }

    /** The tensor's new type, as llama.cpp's llama_tensor_get_type chooses for the file types written here. */
    private static GgmlType targetType(GgufTensor t, Options o, State s) {
        if (!quantizable(t, o)) {
            return t.type();
        }
        FileType ft = o.type();
        GgmlType type = ft.base;
        String name = t.name();
        if (!o.pure() && type.isQuantized()) {
            type = mixedType(t, type, ft, o, s);
        }
        if (o.tokenEmbeddingType() != null && name.equals("token_embd.weight")) {
            type = o.tokenEmbeddingType();
        }
        if (o.outputType() != null && name.equals("output.weight")) {
            type = o.outputType();
        }
        return type;
    }

    private static GgmlType mixedType(GgufTensor t, GgmlType type, FileType ft, Options o, State s) {
        String name = t.name();
        long nx = t.shape()[0];
        if (ft == FileType.MXFP4_MOE) {
            // llama.cpp of 2026: experts (a third dimension over 1) in MXFP4, the rest, output included, in Q8_0
            boolean output = name.equals("output.weight") || (!s.hasOutput && name.equals("token_embd.weight"));
            if (output && o.outputType() != null) {
                return o.outputType();
            }
            return !output && t.dimensions() >= 3 && t.shape()[2] > 1 ? GgmlType.MXFP4 : GgmlType.Q8_0;
        }
        if (name.equals("output.weight") || (!s.hasOutput && name.equals("token_embd.weight"))) {
            if (o.outputType() != null) {
                type = o.outputType();
            } else if (nx % type.blockSize() != 0) {
                type = GgmlType.Q8_0;
            } else if (type != GgmlType.Q8_0) {
                type = GgmlType.Q6_K;
            }
        } else if (name.equals("token_embd.weight")) {
            if (o.tokenEmbeddingType() != null) {
                type = o.tokenEmbeddingType();
            }
        } else if (name.contains("attn_v.weight")) {
            if (ft == FileType.Q2_K) {
                type = s.gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            } else if (ft == FileType.Q3_K_M) {
                type = s.iAttentionWv < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            } else if (ft == FileType.Q3_K_L) {
                type = GgmlType.Q5_K;
            } else if ((ft == FileType.IQ4_NL || ft == FileType.IQ4_XS) && s.gqa >= 4) {
                type = GgmlType.Q5_K;
            } else if ((ft == FileType.Q4_K_M || ft == FileType.Q5_K_M) && useMoreBits(s.iAttentionWv, s.attentionWv)) {
                type = GgmlType.Q6_K;
            } else if (ft == FileType.Q4_K_S && s.iAttentionWv < 4) {
                type = GgmlType.Q5_K;
            }
            if (s.is70b && (type == GgmlType.Q3_K || type == GgmlType.Q4_K)) {
                type = GgmlType.Q5_K; // 70B's attn_v is 8× smaller than attn_q: more bits cost little
            }
            s.iAttentionWv++;
        } else if (name.contains("ffn_down")) {
            int i = s.iFfnDown;
            int n = s.ffnDown;
            if (ft == FileType.Q2_K) {
                type = GgmlType.Q3_K;
            } else if (ft == FileType.Q3_K_M) {
                type = i < n / 16 ? GgmlType.Q5_K : GgmlType.Q4_K;
            } else if (ft == FileType.Q3_K_L) {
                type = GgmlType.Q5_K;
            } else if (ft == FileType.Q4_K_M && useMoreBits(i, n)) {
                type = GgmlType.Q6_K;
            } else if (i < n / 8 && (ft == FileType.IQ4_NL || ft == FileType.IQ4_XS) && o.imatrix() == null) {
                type = GgmlType.Q5_K; // llama.cpp's rule without an importance matrix
            } else if (ft == FileType.Q5_K_M && useMoreBits(i, n)) {
                type = GgmlType.Q6_K;
            } else if (ft == FileType.Q4_K_S && i < n / 8) {
                type = GgmlType.Q5_K;
            } else if ((ft == FileType.Q4_0 || ft == FileType.Q5_0) && o.imatrix() != null && i < n / 8) {
                type = ft == FileType.Q4_0 ? GgmlType.Q4_1 : GgmlType.Q5_1; // llama.cpp's guard for the first ffn_down layers
            }
            s.iFfnDown++;
        } else if (name.contains("attn_output.weight")) {
            if (ft == FileType.Q2_K) {
                type = GgmlType.Q3_K;
            } else if (ft == FileType.Q3_K_M) {
                type = GgmlType.Q4_K;
            } else if (ft == FileType.Q3_K_L) {
                type = GgmlType.Q5_K;
            }
        } else if (name.contains("attn_qkv.weight")) {
            if (ft == FileType.Q3_K_M || ft == FileType.Q3_K_L) {
                type = GgmlType.Q4_K;
            } else if (ft == FileType.Q4_K_M) {
                type = GgmlType.Q5_K;
            } else if (ft == FileType.Q5_K_M) {
                type = GgmlType.Q6_K;
            }
        }
        if (nx % type.blockSize() != 0) { // llama.cpp's fallbacks for rows that do not divide into blocks
            type = switch (type) {
                case Q2_K, Q3_K, IQ4_XS -> GgmlType.IQ4_NL;
                case Q4_K -> GgmlType.Q5_0;
                case Q5_K -> GgmlType.Q5_1;
                case Q6_K -> GgmlType.Q8_0;
                default -> throw new VellamaException("tensor " + name + " has rows of " + nx + " values, which no "
                        + type + " fallback fits");
            };
            if (nx % type.blockSize() != 0) {
                type = GgmlType.F16;
            }
        }
        return type;
    }

    private static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /**
     * The importances for tensor {@code t}'s columns, or null: none given, none for this tensor, or of another size
     * (llama-quantize then quantizes without them too, except that it refuses a size mismatch outside the token
     * embedding).
     */
    private static float[] importanceOf(GgufTensor t, ImportanceMatrix m) {
        if (m == null) {
            return null;
        }
        float[] v = m.of(t.name());
        if (v == null) {
            return null;
        }
        long expected = t.shape()[0] * (t.dimensions() > 2 ? t.shape()[2] : 1);
        if (v.length != expected) {
            if (t.name().equals("token_embd.weight")) {
                return null;
            }
            throw new VellamaException("the importance matrix has " + v.length + " values for " + t.name() + ", which needs "
                    + expected);
        }
        return v;
    }

    /** Rows converted on {@code threads} threads: each dequantizes its rows to floats and quantizes them. */
    private static void convert(GgufTensor t, GgmlType to, float[] importance, MemorySegment target, ExecutorService pool,
            int threads) {
        int perRow = Math.toIntExact(t.shape()[0]);
        long rows = t.elementCount() / perRow;
        long inRow = t.type().byteSize(perRow);
        long outRow = to.byteSize(perRow);
        int parts = (int) Math.max(1, Math.min(threads, rows));
        // the writer's buffer belongs to its thread: the workers fill a shared one, copied over at the end
        try (Arena shared = Arena.ofShared()) {
            MemorySegment scratch = shared.allocate(target.byteSize(), 64);
            convertInto(t, to, importance, scratch, pool, parts, perRow, rows, inRow, outRow);
            MemorySegment.copy(scratch, 0, target, 0, target.byteSize());
        }
    }

    private static void convertInto(GgufTensor t, GgmlType to, float[] importance, MemorySegment target,
            ExecutorService pool, int parts, int perRow, long rows, long inRow, long outRow) {
        long rowsPerMatrix = t.dimensions() > 2 ? t.shape()[1] : rows;
        List<Future<?>> done = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            long from = rows * p / parts;
            long until = rows * (p + 1) / parts;
            done.add(pool.submit(() -> {
                float[] row = new float[perRow];
                for (long r = from; r < until; r++) {
                    Dequantizer.dequantize(t.type(), t.data(), r * inRow, row, 0, perRow);
                    if (importance != null) {
                        float[] columns = importance.length == perRow ? importance : java.util.Arrays.copyOfRange(importance,
                                (int) (r / rowsPerMatrix) * perRow, (int) (r / rowsPerMatrix + 1) * perRow);
                        dev.vellama.quant.WeightedQuantizer.quantizeRow(to, row, perRow, columns, target, r * outRow);
                    } else {
                        Quantizer.quantize(to, row, 0, perRow, target, r * outRow);
                    }
                }
            }));
        }
        try {
            for (Future<?> f : done) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VellamaException("quantization interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new VellamaException("quantizing " + t.name() + " failed: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** Megabytes, for progress lines. */
    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%8.2f MiB", bytes / 1048576.0);
    }
}
