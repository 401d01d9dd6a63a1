package dev.vellama.runtime.tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * llama.cpp's table of BPE pre-tokenizers, keyed by the {@code tokenizer.ggml.pre} names its converter writes.
 * The regexes are those of the models' own tokenizer configurations, in the adapted form llama.cpp uses.
 */
final class PreTokenizerCatalog {
    private static final String GPT2 = Gpt2Split.REGEX;
    private static final String LLAMA3 = Llama3Split.REGEX;
    private static final String CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    private static final String QWEN2 = Llama3Split.QWEN2_REGEX;
    private static final String QWEN35 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Runs of line breaks and runs of anything else. */
    private static final String LINES = "[^\\n]+|[\\n]+";
    private static final String CJK = "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+";
    /** Latin, Greek, Cyrillic and other cased scripts, as listed by the DeepSeek LLM tokenizer. */
    private static final String DEEPSEEK_LETTERS = "\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF"
            + "\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C"
            + "\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5"
            + "\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15"
            + "\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4"
            + "\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4"
            + "\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D"
            + "\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4"
            + "\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E"
            + "\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\uD801\uDC00-\uD801\uDC4F"
            + "\uD801\uDCB0-\uD801\uDCD3\uD801\uDCD8-\uD801\uDCFB\uD803\uDC80-\uD803\uDCB2\uD803\uDCC0-\uD803\uDCF2"
            + "\uD806\uDCA0-\uD806\uDCDF\uD83A\uDD00-\uD83A\uDD43]+";
    private static final String DEEPSEEK_PUNCTUATION = "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+";
    private static final String DEEPSEEK3_WORDS = "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
            + "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String KANA_HAN = "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+";
    private static final String PORO = " ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+";
    /** Case-split words: an optional lead, upper-case letters, then lower-case ones (or the reverse split). */
    private static final String CASE_SPLIT_WORDS = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
            + "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*";
    private static final String TEKKEN = CASE_SPLIT_WORDS
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String GPT4O = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+"
            + CONTRACTIONS + "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTRACTIONS
            + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String BAILINGMOE = "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
    private static final String SEED_CODER = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String UFAKZEKA = "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String MINICPM5 = CONTRACTIONS
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String EXAONE_MOE = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+"
            + "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+";
    private static final String JAIS2 = CONTRACTIONS + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}(?!\\S)"
            + "|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|\\s{1,2}(?!\\S)|\\s{1}";
    private static final String GRANITE_EMB_MULTI = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))*"
            + "((?=[\\p{L}\\p{M}])([^A-Z]))+" + CONTRACTIONS + "?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}\\p{M}])([^a-z]))+"
            + "((?=[\\p{L}\\p{M}])([^A-Z]))*" + CONTRACTIONS
            + "?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final Map<String, PreTokenizerSpec> SPECS = new HashMap<>();

    static {
        // flags: ignoreMerges, addBos, cleanSpaces, noBos
        add(spec(List.of("[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"), false, false, true, false),
                "default");
        add(spec(List.of(LLAMA3), true, true, true, false),
                "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano");
        add(spec(List.of(LLAMA3), false, false, true, false), "dbrx", "smaug-bpe");
        add(spec(List.of(LLAMA3), false, false, true, true), "glm4", "chatglm-bpe");
        add(spec(List.of("[\r\n]", DEEPSEEK_LETTERS, DEEPSEEK_PUNCTUATION, "\\s+$", CJK, "\\p{N}+"), false, false, false, false),
                "deepseek-llm");
        add(spec(List.of("[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}"), false, false, false, false),
                "deepseek-coder");
        add(spec(List.of("\\p{N}{1,3}", KANA_HAN, DEEPSEEK3_WORDS), false, false, false, false),
                "deepseek-v3", "hunyuan-dense", "hy_v4", "joyai-llm");
        add(spec(List.of("[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"), false, false, true, false), "falcon");
        add(spec(List.of(GPT2), false, false, true, false),
                "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
                "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "exaone4");
        // GPT-NeoX's tokenizer (which mpt and olmo models use) pre-tokenizes like GPT-2; llama.cpp's converter
        // names it after those models, the plain name is accepted too
        add(spec(List.of(GPT2), false, false, true, false), "gpt-neox");
        add(spec(List.of(GPT2), false, false, false, false), "trillion", "granite-docling");
        add(spec(List.of("\\p{N}", GPT2), false, false, true, false),
                "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2");
        add(spec(List.of("\\p{N}", GPT2), false, false, false, false), "command-r", "smollm");
        add(spec(List.of(QWEN2), false, false, false, false),
                "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open", "grok-2");
        add(spec(List.of(QWEN2), false, false, true, false), "stablelm2", "megrez");
        add(spec(List.of(QWEN35), false, false, false, false), "qwen35");
        add(spec(List.of(PORO), false, false, false, false), "poro-chat");
        add(spec(List.of(PORO), false, false, true, false), "bloom", "gpt3-finnish");
        add(spec(List.of(PORO, "\\p{N}"), false, false, false, false), "viking");
        add(spec(List.of(TEKKEN), true, true, false, false), "tekken");
        add(spec(List.of("<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
                "[\\p{P}!-/:-@\\[-`{-~]", GPT2), false, true, false, false), "chameleon");
        add(spec(List.of(GPT4O), false, false, false, false), "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2");
        add(spec(List.of(GRANITE_EMB_MULTI), true, false, false, false), "granite-embed-multi-97m");
        add(spec(List.of(BAILINGMOE), false, false, false, false), "bailingmoe", "bailingmoe2", "llada-moe");
        add(spec(List.of(SEED_CODER), false, false, false, false), "seed-coder");
        add(spec(List.of(UFAKZEKA), false, false, false, false), "ufakzeka");
        add(spec(List.of(LINES, QWEN2), false, false, false, false), "laguna");
        // spaces become U+2581 and merges run over whole lines; BOS always, since some converted files say no
        add(new PreTokenizerSpec(List.of(LINES), false, true, true, false, BpeAlphabet.SENTENCE_PIECE, true, true),
                "gemma4");
        add(spec(List.of("\\p{N}{1,3}", MINICPM5), true, false, true, false), "minicpm5");
        add(spec(List.of(EXAONE_MOE), false, false, true, false), "exaone-moe");
        add(spec(List.of(JAIS2), false, false, true, false), "jais-2");
    }

    private PreTokenizerCatalog() {}

    private static PreTokenizerSpec spec(List<String> regexes, boolean ignoreMerges, boolean addBos, boolean cleanSpaces,
                                         boolean noBos) {
        return new PreTokenizerSpec(regexes, ignoreMerges, addBos, cleanSpaces, noBos);
    }

    private static void add(PreTokenizerSpec spec, String... names) {
        for (String name : names) {
            if (SPECS.put(name, spec) != null) {
                throw new IllegalStateException("pre-tokenizer " + name + " listed twice");
            }
        }
    }

    /**
     * The pre-tokenizer a {@code tokenizer.ggml.pre} value names; a missing value means {@code default}, as in
     * llama.cpp (which warns that generation quality will suffer).
     */
    static PreTokenizerSpec forName(String pre) {
        String name = pre == null || pre.isEmpty() ? "default" : pre;
        PreTokenizerSpec spec = SPECS.get(name);
        if (spec == null) {
            throw new TokenizerException("unknown pre-tokenizer type '" + name + "' (tokenizer.ggml.pre); known: "
                    + String.join(", ", names()));
        }
        return spec;
    }

    static Set<String> names() {
        return new TreeSet<>(SPECS.keySet());
    }
}
