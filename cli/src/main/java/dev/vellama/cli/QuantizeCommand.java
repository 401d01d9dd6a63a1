package dev.vellama.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.vellama.gguf.GgmlType;
import dev.vellama.runtime.ModelQuantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code vellama quantize}: llama-quantize's arguments, type names and per-tensor choices. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Write a model in another tensor type, as llama-quantize: IN.gguf OUT.gguf TYPE [THREADS].")
final class QuantizeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN.gguf", description = "The model to convert (F32, F16 or BF16; quantized with --allow-requantize).")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "Where to write the result.")
    Path out;

    @Parameters(index = "2", paramLabel = "TYPE", description = "llama-quantize's type: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q6_K, Q4_K_M, F16, BF16, F32 (or its number).")
    String type;

    @Parameters(index = "3", paramLabel = "THREADS", arity = "0..1", description = "Threads (default: all processors).")
    Integer threads;

    @Option(names = "--pure", description = "Every quantized tensor in TYPE's base type: no Q6_K output, no layer mix.")
    boolean pure;

    @Option(names = "--output-tensor-type", paramLabel = "T", description = "Type of output.weight.")
    String outputType;

    @Option(names = "--token-embedding-type", paramLabel = "T", description = "Type of token_embd.weight.")
    String tokenEmbeddingType;

    @Option(names = "--allow-requantize", description = "Convert tensors that are already quantized (loses precision).")
    boolean allowRequantize;

    @Option(names = "--leave-output-tensor", description = "Keep output.weight as it is.")
    boolean leaveOutput;

    @Option(names = "--imatrix", paramLabel = "FILE",
            description = "llama-imatrix's importance matrix (.dat or GGUF), used as llama-quantize uses it.")
    Path imatrix;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(in)) {
            throw new IllegalArgumentException("no such file: " + in);
        }
        if (Files.exists(out) && Files.isSameFile(in, out)) {
            throw new IllegalArgumentException("the output would overwrite the input");
        }
        ModelQuantizer.Options options = ModelQuantizer.Options.of(ModelQuantizer.FileType.parse(type)).withPure(pure)
                .withAllowRequantize(allowRequantize).withLeaveOutputTensor(leaveOutput)
                .withThreads(threads != null ? threads : Runtime.getRuntime().availableProcessors());
        if (outputType != null) {
            options = options.withOutputType(tensorType(outputType));
        }
        if (imatrix != null) {
            options = options.withImatrix(dev.vellama.runtime.ImportanceMatrix.read(imatrix));
        }
        if (tokenEmbeddingType != null) {
            options = options.withTokenEmbeddingType(tensorType(tokenEmbeddingType));
        }
        long start = System.nanoTime();
        long[] sizes = new long[2];
        ModelQuantizer.quantize(in, out, options, c -> {
            sizes[0] += c.bytesIn();
            sizes[1] += c.bytesOut();
            double seconds = (System.nanoTime() - start) / 1e9;
            err.printf(Locale.ROOT, "[%4d/%4d] %-36s %6s -> %-6s size = %9.2f MiB -> %9.2f MiB  (%.0f MB/s)%n", c.index(), c.count(),
                    c.name(), c.from(), c.to(), c.bytesIn() / 1048576.0, c.bytesOut() / 1048576.0, sizes[0] / 1e6 / Math.max(seconds, 1e-3));
            err.flush();
        });
        err.printf(Locale.ROOT, "model size  = %8.2f MB%nquant size  = %8.2f MB%ntime = %.1f s%n", sizes[0] / 1048576.0,
                sizes[1] / 1048576.0, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static GgmlType tensorType(String name) {
        for (GgmlType t : GgmlType.values()) {
            if (t.name().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown tensor type '" + name + "'");
    }
}
