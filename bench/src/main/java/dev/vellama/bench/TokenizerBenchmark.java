package dev.vellama.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.vellama.gguf.GgufFile;
import dev.vellama.runtime.tokenizer.Tokenizer;

/**
 * Encoding and decoding 100 KB of text with real vocabularies from the shared reference data
 * ({@code -Dvellama.testdata=DIR}, default {@code ../shared}). {@code prose} is English prose (the perplexity
 * text, repeated); {@code mixed} is seeded random words over Latin, Cyrillic, CJK, digits, punctuation and emoji,
 * which defeats word caches and exercises byte fallback.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TokenizerBenchmark {
    private static final int TEXT_BYTES = 100 * 1024;

    @Param({"llama-spm", "llama-bpe", "qwen2"})
    public String vocab;

    @Param({"prose", "mixed"})
    public String text;

    private Tokenizer tokenizer;
    private String input;
    private int[] ids;

    @Setup
    public void setup() throws IOException {
        Path data = Path.of(System.getProperty("vellama.testdata", "../shared"));
        Path file = data.resolve("tokenizer-tests/ggml-vocab-" + vocab + ".gguf");
        if (Files.size(file) < 1024) { // stored as a link: a text file naming the model it stands for
            file = file.resolveSibling(Files.readString(file).trim());
        }
        try (GgufFile gguf = GgufFile.open(file)) {
            tokenizer = Tokenizer.fromGguf(gguf.metadata());
        }
        input = text.equals("prose") ? prose(data) : mixed();
        ids = tokenizer.encode(input, false, false);
    }

    private static String prose(Path data) throws IOException {
        String source = Files.readString(data.resolve("golden/perplexity.txt"));
        StringBuilder sb = new StringBuilder(TEXT_BYTES + source.length());
        while (sb.length() < TEXT_BYTES) {
            sb.append(source);
        }
        return sb.substring(0, TEXT_BYTES);
    }

    private static String mixed() {
        String[] alphabets = {"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "абвгдежзийклмнопрстуфхцчшщ",
                "的一是不了人我在有他这为之大来以个中上们", "0123456789", "éèêàçôûüöäß"};
        String separators = " ,.;:!?'\"()\n\t-";
        int[] emoji = {0x1F600, 0x1F999, 0x1F680, 0x2705};
        SplittableRandom random = new SplittableRandom(42);
        StringBuilder sb = new StringBuilder(TEXT_BYTES + 64);
        while (sb.length() < TEXT_BYTES) {
            String alphabet = alphabets[random.nextInt(alphabets.length)];
            int length = 1 + random.nextInt(9);
            for (int i = 0; i < length; i++) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            if (random.nextInt(40) == 0) {
                sb.appendCodePoint(emoji[random.nextInt(emoji.length)]);
            }
            sb.append(separators.charAt(random.nextInt(separators.length())));
            if (random.nextInt(3) > 0) {
                sb.append(' ');
            }
        }
        return sb.toString();
    }

    @Benchmark
    public int[] encode() {
        return tokenizer.encode(input, false, false);
    }

    @Benchmark
    public String decode() {
        return tokenizer.decode(ids);
    }
}
