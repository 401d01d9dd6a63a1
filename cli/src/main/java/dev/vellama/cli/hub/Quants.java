package dev.vellama.cli.hub;

import java.util.regex.Pattern;

/** Which GGUF file names carry a quantization name (Q4_K_M, Q8_0, IQ4_XS, F16, ...). */
final class Quants {
    private static final Pattern SPLIT = Pattern.compile("(?i).*-\\d{5}-of-\\d{5}\\.gguf$");

    private Quants() {}

    /** Whether {@code file} names {@code quant} as a whole word: Q4_K_M matches "x-Q4_K_M.gguf", not "x-IQ4_K_M.gguf". */
    static boolean names(String file, String quant) {
        String stem = file.replaceFirst("(?i)\\.gguf$", "");
        return Pattern.compile("(?i)(^|[^A-Za-z0-9])" + Pattern.quote(quant) + "($|[^A-Za-z0-9_])").matcher(stem).find();
    }

    /** A part of a split GGUF (NAME-00001-of-00003.gguf). */
    static boolean split(String file) {
        return SPLIT.matcher(file).matches();
    }
}
