package dev.vellama.runtime.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The tokenizer of a GGUF vocabulary: special-token matching, then the vocabulary's algorithm per text fragment. */
final class GgufTokenizer implements Tokenizer {
    private static final byte[] EMPTY = new byte[0];

    private final Vocabulary vocab;
    private final SpecialTokenSplitter specials;
    private final SentencePieceEncoder spm;
    private final BytePairEncoder bpe;
    private final WordPieceEncoder wpm;
    /** What each token contributes to decoded text (control and unknown tokens: nothing). */
    private final byte[][] pieces;

    GgufTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.specials = new SpecialTokenSplitter(vocab);
        this.spm = vocab.kind == Vocabulary.Kind.SPM ? new SentencePieceEncoder(vocab) : null;
        this.bpe = vocab.kind == Vocabulary.Kind.BPE ? new BytePairEncoder(vocab) : null;
        this.wpm = vocab.kind == Vocabulary.Kind.WPM ? new WordPieceEncoder(vocab) : null;
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = piece(id);
        }
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        List<Fragment> fragments = specials.split(wellFormed(text), parseSpecial);
        IntList out = new IntList(Math.max(16, text.length() / 3));
        switch (vocab.kind) {
            case SPM -> {
                if (addSpecial && vocab.addBos) {
                    out.add(vocab.bos);
                }
                boolean afterSpecial = true; // the text start counts as following a special token
                for (Fragment f : fragments) {
                    if (f.isToken()) {
                        out.add(f.token());
                        afterSpecial = true;
                    } else {
                        String t = vocab.addSpacePrefix && afterSpecial ? " " + f.text() : f.text();
                        spm.encode(t.replace(' ', '\u2581'), out);
                        afterSpecial = false;
                    }
                }
                if (addSpecial && vocab.addEos) {
                    out.add(vocab.eos);
                }
            }
            case BPE -> {
                if (addSpecial && vocab.addBos) {
                    out.add(vocab.bos);
                }
                for (Fragment f : fragments) {
                    if (f.isToken()) {
                        out.add(f.token());
                    } else {
                        bpe.encode(f.text(), out);
                    }
                }
                if (addSpecial && vocab.addEos) {
                    out.add(vocab.eos);
                }
            }
            case WPM -> {
                if (addSpecial) {
                    requireSpecial(vocab.bos, "bos (cls)");
                    out.add(vocab.bos);
                }
                for (Fragment f : fragments) {
                    if (f.isToken()) {
                        out.add(f.token());
                    } else {
                        wpm.encode(f.text(), out);
                    }
                }
                if (addSpecial) {
                    requireSpecial(vocab.sep, "seperator");
                    out.add(vocab.sep);
                }
            }
        }
        return out.toArray();
    }

    /**
     * A Java string can hold unpaired surrogates, which no UTF-8 text can; they become U+FFFD, the character
     * llama.cpp reads for bytes that are not UTF-8.
     */
    static String wellFormed(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                        && Character.isLowSurrogate(text.charAt(i + 1));
                if (!paired) {
                    StringBuilder sb = new StringBuilder(text.length());
                    text.codePoints().forEach(cp -> sb.appendCodePoint(
                            cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE ? 0xFFFD : cp));
                    return sb.toString();
                }
                i++;
            }
        }
        return text;
    }

    private static void requireSpecial(int id, String name) {
        if (id < 0) {
            throw new TokenizerException("the vocabulary has no " + name + " token to add");
        }
    }

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        boolean removeSpace = vocab.addSpacePrefix;
        for (int id : ids) {
            checkId(id);
            byte[] piece = pieces[id];
            int skip = removeSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
            removeSpace = false;
        }
        byte[] bytes = out.toByteArray();
        if (vocab.cleanSpaces) {
            bytes = SpaceCleaner.clean(bytes);
        }
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public byte[] tokenBytes(int id) {
        checkId(id);
        return pieces[id].clone();
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return vocab.texts[id];
    }

    @Override
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder(this);
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bos() {
        return vocab.bos;
    }

    @Override
    public int eos() {
        return vocab.eos;
    }

    @Override
    public int eot() {
        return vocab.eot;
    }

    @Override
    public int eom() {
        return vocab.eom;
    }

    @Override
    public FillInMiddleTokens fillInMiddle() {
        return new FillInMiddleTokens(vocab.fimPre, vocab.fimSuf, vocab.fimMid, vocab.fimPad, vocab.fimRep, vocab.fimSep);
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return vocab.isEndOfGeneration(id);
    }

    @Override
    public boolean addsBos() {
        return vocab.addBos;
    }

    @Override
    public int[] rerankPair(int[] query, int[] document) {
        int eos = vocab.eos >= 0 ? vocab.eos : vocab.sep;
        if (vocab.addBos) {
            requireSpecial(vocab.bos, "bos");
        }
        if (vocab.addEos) {
            requireSpecial(eos, "eos (or seperator)");
        }
        if (vocab.addSep) {
            requireSpecial(vocab.sep, "seperator");
        }
        IntList out = new IntList(query.length + document.length + 4);
        if (vocab.addBos) {
            out.add(vocab.bos);
        }
        out.addAll(query);
        if (vocab.addEos) {
            out.add(eos);
        }
        if (vocab.addSep) {
            out.add(vocab.sep);
        }
        out.addAll(document);
        if (vocab.addEos) {
            out.add(eos);
        }
        return out.toArray();
    }

    @Override
    public String toString() {
        return "Tokenizer[" + vocab.model + (vocab.kind == Vocabulary.Kind.BPE ? "/" + vocab.pre : "") + ", "
                + vocab.size() + " tokens]";
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new TokenizerException("token id " + id + " is outside the vocabulary [0, " + vocab.size() + ")");
        }
    }

    /** llama.cpp's {@code token_to_piece} with {@code special=false}. */
    private byte[] piece(int id) {
        String text = vocab.texts[id];
        if (vocab.has(id, TokenAttributes.CONTROL | TokenAttributes.UNKNOWN)) {
            return EMPTY;
        }
        if (vocab.has(id, TokenAttributes.USER_DEFINED)) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        if (vocab.has(id, TokenAttributes.NORMAL)) {
            if (vocab.kind == Vocabulary.Kind.BPE) {
                return vocab.alphabet.decode(text);
            }
            return text.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
        }
        if (vocab.has(id, TokenAttributes.BYTE)) {
            return byteValue(text);
        }
        return EMPTY;
    }

    /** The byte of a {@code <0xNN>} token; a byte token named otherwise stands for its own text. */
    private static byte[] byteValue(String text) {
        if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
            try {
                return new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)};
            } catch (NumberFormatException e) {
                // not hex: fall through
            }
        }
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
