package dev.vellama.runtime.tokenizer;

import java.text.Normalizer;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Unicode facts the tokenizers need, with llama.cpp's definitions: one category flag per code point (the
 * general category folded into letter, number, mark, punctuation, symbol, separator, control or undefined) plus a
 * whitespace bit taken from the White_Space property (which Java's {@link Character#isWhitespace} does not follow:
 * it leaves out no-break spaces and includes U+001C..U+001F).
 */
final class CodepointClass {
    static final int UNDEFINED = 0x0001;
    static final int NUMBER = 0x0002;
    static final int LETTER = 0x0004;
    static final int SEPARATOR = 0x0008;
    static final int MARK = 0x0010;
    static final int PUNCTUATION = 0x0020;
    static final int SYMBOL = 0x0040;
    static final int CONTROL = 0x0080;
    static final int CATEGORY_MASK = 0x00FF;
    static final int WHITESPACE = 0x0100;

    private static final short[] BMP = new short[0x10000];
    private static final ConcurrentHashMap<Integer, Integer> NFD_FIRST = new ConcurrentHashMap<>();

    static {
        for (int cp = 0; cp < BMP.length; cp++) {
            BMP[cp] = (short) compute(cp);
        }
    }

    private CodepointClass() {}

    /** The flags of a code point; 0 only for values outside Unicode. */
    static int flags(int cp) {
        if (cp < 0x10000 && cp >= 0) {
            return BMP[cp];
        }
        return cp <= Character.MAX_CODE_POINT ? compute(cp) : 0;
    }

    static boolean isWhitespace(int cp) {
        return (flags(cp) & WHITESPACE) != 0;
    }

    static boolean isNumber(int cp) {
        return (flags(cp) & NUMBER) != 0;
    }

    /** Simple (one-to-one) lowercase mapping, as UnicodeData.txt gives it. */
    static int toLower(int cp) {
        return Character.toLowerCase(cp);
    }

    /** The first code point of the canonical decomposition: a letter without its accents. */
    static int nfdFirst(int cp) {
        if (cp < 0xC0) {
            return cp;
        }
        return NFD_FIRST.computeIfAbsent(cp,
                c -> Normalizer.normalize(Character.toString(c), Normalizer.Form.NFD).codePointAt(0));
    }

    private static int compute(int cp) {
        int category = switch (Character.getType(cp)) {
            case Character.UNASSIGNED -> UNDEFINED;
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> CONTROL;
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK -> MARK;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                 Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                 Character.OTHER_PUNCTUATION -> PUNCTUATION;
            case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL,
                 Character.OTHER_SYMBOL -> SYMBOL;
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SEPARATOR;
            default -> UNDEFINED;
        };
        return category | (isWhiteSpaceProperty(cp) ? WHITESPACE : 0);
    }

    /** Unicode's White_Space property (PropList.txt). */
    private static boolean isWhiteSpaceProperty(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }
}
