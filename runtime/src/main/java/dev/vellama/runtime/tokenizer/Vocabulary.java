package dev.vellama.runtime.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

import dev.vellama.gguf.GgufMetadata;
import dev.vellama.gguf.GgufMetadataException;
import dev.vellama.gguf.GgufValue;
import dev.vellama.gguf.GgufValueType;

/**
 * A GGUF vocabulary as llama.cpp loads it: token texts, scores and attributes, the special token ids with the
 * defaults of each tokenizer model, the flags that steer encoding and decoding, the BPE merge ranks, and the
 * adjustments llama.cpp makes by token text (end-of-generation tokens forced to control, "unused" control tokens,
 * Phi-3's right-stripping specials).
 */
final class Vocabulary {
    static final String KEY_PREFIX = "tokenizer.ggml.";

    /** The tokenizer algorithm ({@code tokenizer.ggml.model}). */
    enum Kind { SPM, BPE, WPM }

    /** Token texts that llama.cpp takes as end-of-turn markers, in the order this class prefers them. */
    private static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
            "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>",
            "<end_of_utterance>");
    private static final List<String> FIM_PRE_TEXTS = List.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
            "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>", "\u2581<PRE>", "<|code_prefix|>", "<|prefix|>");
    private static final List<String> FIM_SUF_TEXTS = List.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
            "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>", "\u2581<SUF>", "<|code_suffix|>", "<|suffix|>");
    private static final List<String> FIM_MID_TEXTS = List.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>",
            "<\uFF5Cfim\u2581end\uFF5C>", "<MID>", "\u2581<MID>", "<|code_middle|>", "<|middle|>");
    private static final List<String> FIM_PAD_TEXTS = List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]");
    private static final List<String> FIM_REP_TEXTS = List.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
            "<reponame>");
    private static final List<String> FIM_SEP_TEXTS = List.of("<|file_sep|>");
    /** Every token with one of these texts ends generation. */
    private static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
            "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>",
            "<|tool_response>", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "[e~[");

    final Kind kind;
    final String model;
    final String pre;
    final String[] texts;
    final float[] scores;
    final int[] attrs;
    final TokenIndex index;
    final int maxTokenBytes;

    int bos = -1;
    int eos = -1;
    int eot = -1;
    int eom = -1;
    int unk = -1;
    int sep = -1;
    int pad = -1;
    int mask = -1;
    int fimPre = -1;
    int fimSuf = -1;
    int fimMid = -1;
    int fimPad = -1;
    int fimRep = -1;
    int fimSep = -1;

    boolean addSpacePrefix;
    boolean addBos;
    boolean addEos;
    /** A separator between a pair's two texts (llama.cpp's add_sep: a reranker's query and document); WPM's default. */
    boolean addSep;
    boolean ignoreMerges;
    boolean cleanSpaces;
    boolean lowercase = true;
    boolean stripAccents = true;

    /** BPE only. */
    final MergeTable merges;
    /** BPE only. */
    final PreTokenizer preTokenizer;
    /** BPE only. */
    final BpeAlphabet alphabet;
    /** BPE only: a word of nothing but line breaks is taken whole when it is a token (Gemma 4). */
    final boolean wholeNewlineRuns;
    /** Control, user-defined and unknown tokens, longest text first: the ones matched literally in text. */
    final int[] specialTokens;
    private final boolean[] endOfGeneration;

    private Vocabulary(GgufMetadata md) {
        this.model = md.getString(KEY_PREFIX + "model", null);
        if (model == null) {
            throw new TokenizerException("the file has no vocabulary (tokenizer.ggml.model is missing)");
        }
        String preName = md.getString(KEY_PREFIX + "pre", "");
        PreTokenizerSpec spec = null;
        switch (model) {
            case "llama" -> {
                kind = Kind.SPM;
                bos = 1;
                eos = 2;
                unk = 0;
                addSpacePrefix = true;
                addBos = true;
            }
            case "bert" -> {
                kind = Kind.WPM;
                bos = 101;
                unk = 100;
                sep = 102;
                pad = 0;
                mask = 103;
                cleanSpaces = true;
                addBos = true;
            }
            case "gpt2" -> {
                kind = Kind.BPE;
                bos = 11;
                eos = 11;
                spec = PreTokenizerCatalog.forName(preName);
            }
            case "gemma4" -> {
                // BPE on SentencePiece-style text: llama.cpp ignores tokenizer.ggml.pre for it and has no default
                // special ids, they all come from the file
                kind = Kind.BPE;
                preName = "gemma4";
                spec = PreTokenizerCatalog.forName(preName);
            }
            case "no_vocab", "none" -> throw new TokenizerException("the file has no vocabulary (tokenizer.ggml.model = '"
                    + model + "')");
            case "t5", "rwkv", "plamo2", "hybriddna", "whitespace" -> throw new TokenizerException(
                    "tokenizer model '" + model + "' is not supported (supported: llama, gpt2, gemma4, bert)");
            default -> throw new TokenizerException("unknown tokenizer model '" + model + "' (tokenizer.ggml.model)");
        }
        if (spec != null) {
            ignoreMerges = spec.ignoreMerges();
            addBos = spec.addBos();
            cleanSpaces = spec.cleanSpaces();
            if (spec.noBos()) {
                bos = -1;
            }
        }
        this.pre = kind == Kind.BPE ? (preName.isEmpty() ? "default" : preName) : preName;
        addSpacePrefix = md.getBool(KEY_PREFIX + "add_space_prefix", addSpacePrefix);

        if (!md.contains(KEY_PREFIX + "tokens")) {
            throw new TokenizerException("cannot find the token list (tokenizer.ggml.tokens)");
        }
        String[] tokens = md.getStringArray(KEY_PREFIX + "tokens");
        int n = tokens.length;
        this.texts = tokens;
        this.scores = readScores(md, n);
        this.attrs = readAttributes(md, n);
        int maxBytes = 0;
        for (int i = 0; i < n; i++) {
            if (texts[i].isEmpty()) {
                texts[i] = "[EMPTY_" + i + "]";
            }
            maxBytes = Math.max(maxBytes, utf8Length(texts[i]));
        }
        this.index = new TokenIndex(texts);
        this.maxTokenBytes = maxBytes;
        this.merges = kind == Kind.BPE ? readMerges(md, index) : null;
        this.preTokenizer = spec == null ? null : spec.create();
        this.alphabet = spec == null ? null : spec.alphabet();
        this.wholeNewlineRuns = spec != null && spec.wholeNewlineRuns();

        readSpecialIds(md, n);
        addBos = md.getBool(KEY_PREFIX + "add_bos_token", addBos) || (spec != null && spec.forceBos());
        addEos = md.getBool(KEY_PREFIX + "add_eos_token", addEos);
        addSep = md.getBool(KEY_PREFIX + "add_sep_token", kind == Kind.WPM);
        if (addBos && bos < 0) {
            throw new TokenizerException("BOS is to be added (tokenizer.ggml.add_bos_token or the tokenizer's default),"
                    + " but tokenizer.ggml.bos_token_id is not set");
        }
        if (addEos && eos < 0) {
            throw new TokenizerException("tokenizer.ggml.add_eos_token is true, but tokenizer.ggml.eos_token_id is not set");
        }
        if (md.contains(KEY_PREFIX + "normalizer.lowercase")) {
            lowercase = md.getBool(KEY_PREFIX + "normalizer.lowercase");
            stripAccents = lowercase;
        }
        stripAccents = md.getBool(KEY_PREFIX + "normalizer.strip_accents", stripAccents);

        detectSpecialTokensByText();
        markUnusedControlTokens();
        this.endOfGeneration = collectEndOfGeneration();
        this.specialTokens = sortedSpecialTokens();
        applyModelAttributes(md);
    }

    /** @throws TokenizerException also for metadata of the wrong type, naming the key */
    static Vocabulary load(GgufMetadata metadata) {
        try {
            return new Vocabulary(metadata);
        } catch (GgufMetadataException e) {
            throw new TokenizerException("bad vocabulary metadata: " + e.getMessage(), e);
        }
    }

    int size() {
        return texts.length;
    }

    /** The id of a token text, or -1. */
    int id(String text) {
        return index.find(text);
    }

    boolean has(int id, int attribute) {
        return (attrs[id] & attribute) != 0;
    }

    boolean isEndOfGeneration(int id) {
        return id >= 0 && id < endOfGeneration.length && endOfGeneration[id];
    }

    private static float[] readScores(GgufMetadata md, int n) {
        String key = KEY_PREFIX + "scores";
        if (!md.contains(key)) {
            return new float[n];
        }
        GgufValue v = md.get(key);
        float[] scores;
        if (v.isArray() && v.elementType() == GgufValueType.INT32) {
            int[] raw = md.getIntArray(key);
            scores = new float[raw.length];
            for (int i = 0; i < raw.length; i++) {
                scores[i] = raw[i];
            }
        } else {
            scores = md.getFloatArray(key);
        }
        if (scores.length < n) {
            throw new TokenizerException(key + " has " + scores.length + " entries for " + n + " tokens");
        }
        return scores;
    }

    private static int[] readAttributes(GgufMetadata md, int n) {
        String key = KEY_PREFIX + "token_type";
        int[] attrs = new int[n];
        if (!md.contains(key)) {
            Arrays.fill(attrs, TokenAttributes.NORMAL);
            return attrs;
        }
        int[] types = md.getIntArray(key);
        if (types.length < n) {
            throw new TokenizerException(key + " has " + types.length + " entries for " + n + " tokens");
        }
        for (int i = 0; i < n; i++) {
            attrs[i] = TokenAttributes.fromTokenType(types[i]);
        }
        return attrs;
    }

    private static MergeTable readMerges(GgufMetadata md, TokenIndex index) {
        String key = KEY_PREFIX + "merges";
        if (!md.contains(key)) {
            throw new TokenizerException("cannot find tokenizer merges (" + key + ") in a BPE vocabulary");
        }
        return new MergeTable(md.getStringArray(key), index);
    }

    private void readSpecialIds(GgufMetadata md, int n) {
        bos = specialId(md, "bos_token_id", bos, n);
        eos = specialId(md, "eos_token_id", eos, n);
        eot = specialId(md, "eot_token_id", eot, n);
        eom = specialId(md, "eom_token_id", eom, n);
        unk = specialId(md, "unknown_token_id", unk, n);
        sep = specialId(md, "seperator_token_id", sep, n);
        pad = specialId(md, "padding_token_id", pad, n);
        mask = specialId(md, "mask_token_id", mask, n);
        fimPre = specialId(md, "fim_pre_token_id", fimPre, n);
        fimSuf = specialId(md, "fim_suf_token_id", fimSuf, n);
        fimMid = specialId(md, "fim_mid_token_id", fimMid, n);
        fimPad = specialId(md, "fim_pad_token_id", fimPad, n);
        fimRep = specialId(md, "fim_rep_token_id", fimRep, n);
        fimSep = specialId(md, "fim_sep_token_id", fimSep, n);
        fimPre = specialId(md, "prefix_token_id", fimPre, n);
        fimSuf = specialId(md, "suffix_token_id", fimSuf, n);
        fimMid = specialId(md, "middle_token_id", fimMid, n);
    }

    /** A default outside the vocabulary is dropped; a stored id outside it is ignored. */
    private static int specialId(GgufMetadata md, String name, int fallback, int n) {
        int id = fallback >= n ? -1 : fallback;
        String key = KEY_PREFIX + name;
        if (md.contains(key)) {
            long stored = md.getLong(key);
            if (stored >= 0 && stored < n) {
                id = (int) stored;
            }
        }
        return id;
    }

    private void detectSpecialTokensByText() {
        if (eot < 0) {
            eot = findAndMarkControl(EOT_TEXTS);
        }
        if (eom < 0) {
            eom = findAndMarkControl(List.of("<|eom_id|>"));
        }
        if (fimPre < 0) {
            fimPre = findAndMarkControl(FIM_PRE_TEXTS);
        }
        if (fimSuf < 0) {
            fimSuf = findAndMarkControl(FIM_SUF_TEXTS);
        }
        if (fimMid < 0) {
            fimMid = findAndMarkControl(FIM_MID_TEXTS);
        }
        if (fimPad < 0) {
            fimPad = findAndMarkControl(FIM_PAD_TEXTS);
        }
        if (fimRep < 0) {
            fimRep = findAndMarkControl(FIM_REP_TEXTS);
        }
        if (fimSep < 0) {
            fimSep = findAndMarkControl(FIM_SEP_TEXTS);
        }
    }

    /** The first of the texts the vocabulary has, now marked as a control token; -1 when it has none. */
    private int findAndMarkControl(List<String> candidates) {
        for (String text : candidates) {
            int id = id(text);
            if (id >= 0) {
                attrs[id] |= TokenAttributes.CONTROL;
                return id;
            }
        }
        return -1;
    }

    private void markUnusedControlTokens() {
        for (int i = 0; i < texts.length; i++) {
            if ((attrs[i] & TokenAttributes.CONTROL) != 0 && texts[i].contains("unused")) {
                attrs[i] |= TokenAttributes.UNUSED;
            }
        }
    }

    private boolean[] collectEndOfGeneration() {
        TreeSet<Integer> eog = new TreeSet<>();
        for (int id : new int[] {fimPad, fimRep, fimSep}) {
            if (id >= 0) {
                eog.add(id);
            }
        }
        for (String text : EOG_TEXTS) {
            int id = id(text);
            if (id >= 0) {
                eog.add(id);
                attrs[id] |= TokenAttributes.CONTROL;
            }
        }
        // gpt-oss: these framing tokens are always rendered
        for (String text : List.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>")) {
            int id = id(text);
            if (id >= 0) {
                attrs[id] = TokenAttributes.USER_DEFINED;
            }
        }
        for (int id : new int[] {eos, eot, eom}) {
            if (id >= 0) {
                eog.add(id);
            }
        }
        // o200k_harmony and solar-open: <|end|> ends a message, not the generation
        boolean hasReturn = eog.contains(id("<|return|>"));
        boolean hasCall = eog.contains(id("<|call|>")) || eog.contains(id("<|calls|>"));
        boolean hasFlush = eog.contains(id("<|flush|>"));
        int end = id("<|end|>");
        if (end >= 0 && eog.contains(end) && hasCall && (hasReturn || hasFlush)) {
            eog.remove(end);
            attrs[end] = TokenAttributes.USER_DEFINED;
        }
        // gemma4 and paddleocr: </s> is not an end of generation next to <|tool_response>
        int closing = id("</s>");
        if (closing >= 0 && eog.contains(closing) && eog.contains(id("<|tool_response>"))) {
            eog.remove(closing);
            attrs[closing] = TokenAttributes.NORMAL;
        }
        boolean[] flags = new boolean[texts.length];
        for (int id : eog) {
            flags[id] = true;
        }
        return flags;
    }

    private int[] sortedSpecialTokens() {
        List<Integer> special = new ArrayList<>();
        int matched = TokenAttributes.CONTROL | TokenAttributes.USER_DEFINED | TokenAttributes.UNKNOWN;
        for (int i = 0; i < texts.length; i++) {
            if ((attrs[i] & matched) != 0) {
                special.add(i);
            }
        }
        // longest first in UTF-8 bytes, as llama.cpp compares them; ties in id order
        special.sort(Comparator.<Integer>comparingInt(i -> utf8Length(texts[i])).reversed().thenComparingInt(i -> i));
        return special.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Attributes llama.cpp sets by model and tokenizer name, since GGUF does not store them. */
    private void applyModelAttributes(GgufMetadata md) {
        String name = md.getString("general.name", "").toLowerCase(Locale.ROOT);
        String arch = md.getString("general.architecture", "");
        String preName = md.getString(KEY_PREFIX + "pre", "");
        if (containsAny(preName, "jina-v2-de", "jina-v2-es", "jina-v2-code") || containsAny(arch, "nomic-bert-moe", "jina-bert-v3")) {
            setAttribute("<mask>", TokenAttributes.LSTRIP, true);
        } else if (containsAny(name, "phi-3", "phi3")) {
            for (int id : specialTokens) {
                attrs[id] |= TokenAttributes.RSTRIP;
            }
            setAttribute("</s>", TokenAttributes.RSTRIP, true);
            for (String text : List.of("<unk>", "<s>", "<|endoftext|>")) {
                setAttribute(text, TokenAttributes.RSTRIP, false);
            }
        } else if (containsAny(name, "modern-bert")) {
            setAttribute("[MASK]", TokenAttributes.LSTRIP, true);
        }
    }

    private void setAttribute(String text, int attribute, boolean on) {
        int id = id(text);
        if (id >= 0) {
            attrs[id] = on ? attrs[id] | attribute : attrs[id] & ~attribute;
        }
    }

    private static boolean containsAny(String s, String... parts) {
        for (String p : parts) {
            if (s.contains(p)) {
                return true;
            }
        }
        return false;
    }

    static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
