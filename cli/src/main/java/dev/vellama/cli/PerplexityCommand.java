package dev.vellama.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.vellama.runtime.KlDivergence;
import dev.vellama.runtime.LogProbsFile;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Perplexity;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vellama perplexity}: llama-perplexity's perplexity and KL-divergence modes, printing its lines
 * ({@code [1]348.0763,[2]...}, {@code Final estimate: PPL = ... +/- ...}, the KL statistics block), so scripts
 * written for llama.cpp read them unchanged; the base files of {@code --kl-divergence-base} are llama.cpp's format.
 */
@Command(name = "perplexity", mixinStandardHelpOptions = true,
        description = "Perplexity of a text, or KL divergence from a base model's saved log-probabilities, as llama-perplexity.")
final class PerplexityCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
    Path model;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "The text to score (UTF-8).")
    Path file;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "512",
            description = "Chunk size: each chunk is scored on its second half (default: ${DEFAULT-VALUE}).")
    int ctx;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", defaultValue = "2048",
            description = "Tokens evaluated per step (default: ${DEFAULT-VALUE}, capped at the chunk size).")
    int batch;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Compute threads (default: all processors).")
    Integer threads;

    @Option(names = "--chunks", paramLabel = "N", defaultValue = "-1", description = "Score at most N chunks (default: all).")
    int chunks;

    @Option(names = "--kl-divergence-base", paramLabel = "FILE",
            description = "Save the model's log-probabilities to FILE (with --kl-divergence: read them from FILE).")
    Path base;

    @picocli.CommandLine.Mixin
    SteeringOptions steering;

    @picocli.CommandLine.Mixin
    LoraOptions lora;

    @Option(names = "--kl-divergence", description = "Compare the model with the base log-probabilities of --kl-divergence-base.")
    boolean klDivergence;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (ctx < 8) {
            throw new IllegalArgumentException("-c must be at least 8, not " + ctx);
        }
        if (klDivergence && base == null) {
            throw new IllegalArgumentException("--kl-divergence needs --kl-divergence-base FILE (the base model's log-probabilities)");
        }
        try (Model m = Model.load(model)) {
            if (klDivergence) {
                try (LogProbsFile.Reader reader = new LogProbsFile.Reader(base)) {
                    SessionOptions options = options(reader.chunkSize());
                    try (Session s = m.newSession(options)) {
                        lora.apply(s);
                        steering.apply(s);
                        err.printf(Locale.ROOT, "kl_divergence: %d chunks of %d tokens from %s%n", reader.chunks(), reader.chunkSize(), base);
                        err.flush();
                        out.println();
                        out.println("chunk             PPL               ln(PPL(Q)/PPL(base))          KL Divergence              Δp RMS            Same top p");
                        out.flush();
                        KlDivergence.Result r = KlDivergence.compare(s, reader, (done, total, so) -> {
                            out.printf(Locale.ROOT, "%4d    %9.4f ± %9.4f    %10.5f ± %10.5f    %10.5f ± %10.5f    %6.3f ± %6.3f %%    %6.3f ± %6.3f %%%n",
                                    done, so.ppl().value(), so.ppl().uncertainty(), so.logPplRatio().value(),
                                    so.logPplRatio().uncertainty(), so.kld().value(), so.kld().uncertainty(),
                                    100 * so.pDifferenceRms().value(), 100 * so.pDifferenceRms().uncertainty(),
                                    100 * so.sameTop().value(), 100 * so.sameTop().uncertainty());
                            out.flush();
                        });
                        out.println();
                        printStatistics(out, r);
                    }
                }
                return 0;
            }
            if (file == null) {
                throw new IllegalArgumentException("give the text to score with -f FILE");
            }
            String text;
            try {
                text = Files.readString(file, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException("no such file: " + file);
            }
            int[] tokens = m.tokenizer().encode(text, true, false);
            if (tokens.length < 2 * ctx) {
                throw new IllegalArgumentException("the text has " + tokens.length + " tokens; a context of " + ctx
                        + " needs at least " + 2 * ctx + " (as llama-perplexity)");
            }
            try (Session s = m.newSession(options(ctx))) {
                lora.apply(s);
                steering.apply(s);
                int total = chunks >= 0 ? Math.min(chunks, tokens.length / ctx) : tokens.length / ctx;
                err.printf(Locale.ROOT, "perplexity: calculating perplexity over %d chunks, n_ctx=%d, batch_size=%d%s%n",
                        total, ctx, Math.min(batch, ctx), base != null ? ", saving log-probabilities to " + base : "");
                Perplexity.Result r = Perplexity.compute(s, tokens, ctx, chunks, (done, all, ppl) -> {
                    out.printf(Locale.ROOT, "[%d]%.4f,", done, ppl);
                    out.flush();
                }, base);
                out.println();
                out.printf(Locale.ROOT, "Final estimate: PPL = %.4f +/- %.5f%n", r.ppl(), r.stderr());
            }
        }
        return 0;
    }

    private SessionOptions options(int context) {
        SessionOptions o = SessionOptions.defaults().withContextSize(context).withBatchSize(Math.min(batch, context));
        return threads != null ? o.withThreads(threads) : o;
    }

    /** llama-perplexity's closing block for --kl-divergence (none under 100 scored positions, as there). */
    static void printStatistics(PrintWriter out, KlDivergence.Result r) {
        if (r.count() < 100) {
            out.println("(fewer than 100 scored positions: no statistics, as llama-perplexity)");
            return;
        }
        out.println("====== Perplexity statistics ======");
        out.printf(Locale.ROOT, "Mean PPL(Q)                   : %10.6f ± %10.6f%n", r.ppl().value(), r.ppl().uncertainty());
        out.printf(Locale.ROOT, "Mean PPL(base)                : %10.6f ± %10.6f%n", r.pplBase().value(), r.pplBase().uncertainty());
        out.printf(Locale.ROOT, "Cor(ln(PPL(Q)), ln(PPL(base))): %6.2f%%%n", 100 * r.logPplCorrelation());
        out.printf(Locale.ROOT, "Mean ln(PPL(Q)/PPL(base))     : %10.6f ± %10.6f%n", r.logPplRatio().value(), r.logPplRatio().uncertainty());
        out.printf(Locale.ROOT, "Mean PPL(Q)/PPL(base)         : %10.6f ± %10.6f%n", r.pplRatio().value(), r.pplRatio().uncertainty());
        out.printf(Locale.ROOT, "Mean PPL(Q)-PPL(base)         : %10.6f ± %10.6f%n", r.pplDifference().value(), r.pplDifference().uncertainty());
        out.println();
        out.println("====== KL divergence statistics ======");
        float[] k = r.sortedKld();
        out.printf(Locale.ROOT, "Mean    KLD: %10.6f ± %10.6f%n", r.kld().value(), r.kld().uncertainty());
        out.printf(Locale.ROOT, "Maximum KLD: %10.6f%n", k[k.length - 1]);
        out.printf(Locale.ROOT, "99.9%%   KLD: %10.6f%n", KlDivergence.Result.percentile(k, 0.999f));
        out.printf(Locale.ROOT, "99.0%%   KLD: %10.6f%n", KlDivergence.Result.percentile(k, 0.990f));
        out.printf(Locale.ROOT, "99.0%%   KLD: %10.6f%n", KlDivergence.Result.percentile(k, 0.990f)); // llama.cpp prints it twice
        out.printf(Locale.ROOT, "Median  KLD: %10.6f%n", KlDivergence.Result.median(k));
        out.printf(Locale.ROOT, "10.0%%   KLD: %10.6f%n", KlDivergence.Result.percentile(k, 0.100f));
        out.printf(Locale.ROOT, " 5.0%%   KLD: %10.6f%n", KlDivergence.Result.percentile(k, 0.050f));
        out.printf(Locale.ROOT, " 1.0%%   KLD: %10.6f%n", KlDivergence.Result.percentile(k, 0.010f));
        out.printf(Locale.ROOT, "Minimum KLD: %10.6f%n", k[0]);
        out.println();
        out.println("====== Token probability statistics ======");
        float[] p = r.sortedPDifference();
        out.printf(Locale.ROOT, "Mean    Δp: %6.3f ± %5.3f %%%n", 100 * r.pDifference().value(), 100 * r.pDifference().uncertainty());
        out.printf(Locale.ROOT, "Maximum Δp: %6.3f%%%n", 100 * p[p.length - 1]);
        float[] fractions = {0.999f, 0.990f, 0.950f, 0.900f, 0.750f};
        String[] labels = {"99.9%", "99.0%", "95.0%", "90.0%", "75.0%"};
        for (int i = 0; i < fractions.length; i++) {
            out.printf(Locale.ROOT, "%s   Δp: %6.3f%%%n", labels[i], 100 * KlDivergence.Result.percentile(p, fractions[i]));
        }
        out.printf(Locale.ROOT, "Median  Δp: %6.3f%%%n", 100 * KlDivergence.Result.median(p));
        float[] low = {0.250f, 0.100f, 0.050f, 0.010f, 0.001f};
        String[] lowLabels = {"25.0%", "10.0%", " 5.0%", " 1.0%", " 0.1%"};
        for (int i = 0; i < low.length; i++) {
            out.printf(Locale.ROOT, "%s   Δp: %6.3f%%%n", lowLabels[i], 100 * KlDivergence.Result.percentile(p, low[i]));
        }
        out.printf(Locale.ROOT, "Minimum Δp: %6.3f%%%n", 100 * p[0]);
        out.printf(Locale.ROOT, "RMS Δp    : %6.3f ± %5.3f %%%n", 100 * r.pDifferenceRms().value(), 100 * r.pDifferenceRms().uncertainty());
        out.printf(Locale.ROOT, "Same top p: %6.3f ± %5.3f %%%n", 100 * r.sameTop().value(), 100 * r.sameTop().uncertainty());
    }
}
