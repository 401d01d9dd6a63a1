package dev.vellama.runtime.tokenizer;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A pre-tokenizer regex evaluated the way llama.cpp evaluates the ones it has no hand-written scanner for. A
 * regex that names Unicode categories ({@code \p{L}}, {@code \p{N}}, {@code \p{P}}, {@code \p{M}}, {@code \p{S}})
 * runs on the collapsed text, where each non-ASCII code point is a stand-in char for its category and each
 * category in the regex becomes that stand-in plus its ASCII members; any other regex runs on the text itself
 * with ASCII-only {@code \s} (non-ASCII whitespace having been replaced by U+000B). Text between matches becomes
 * pieces too, so nothing is lost.
 */
final class RegexSplit implements SplitRule {
    /** What each category stands for in the collapsed text: its stand-in char and its ASCII members. */
    private static final Map<String, String> CATEGORY_CLASS = Map.of(
            "N", CodepointText.COLLAPSED_NUMBER + "0-9",
            "L", CodepointText.COLLAPSED_LETTER + "A-Za-z",
            "Lu", CodepointText.COLLAPSED_LETTER + "A-Za-z",
            "Ll", CodepointText.COLLAPSED_LETTER + "A-Za-z",
            "Lt", CodepointText.COLLAPSED_LETTER + "A-Za-z",
            "Lm", CodepointText.COLLAPSED_LETTER + "A-Za-z",
            "Lo", CodepointText.COLLAPSED_LETTER + "A-Za-z",
            "P", CodepointText.COLLAPSED_PUNCTUATION + "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
            "M", String.valueOf(CodepointText.COLLAPSED_MARK),
            "S", CodepointText.COLLAPSED_SYMBOL + "\\$\\+<->\\^`\\|");

    private final Pattern pattern;
    private final boolean collapsed;

    RegexSplit(String regex) {
        this.collapsed = CATEGORY_CLASS.keySet().stream().anyMatch(c -> regex.contains("\\p{" + c + "}"));
        if (collapsed && regex.codePoints().anyMatch(c -> c >= 0x80)) {
            throw new TokenizerException("pre-tokenizer regex mixes Unicode categories and non-ASCII characters: " + regex);
        }
        try {
            this.pattern = Pattern.compile(translate(regex, collapsed));
        } catch (PatternSyntaxException e) {
            throw new TokenizerException("pre-tokenizer regex does not compile: " + regex, e);
        }
    }

    /**
     * Rewrites categories (collapsed mode) and turns an unescaped {@code $} outside brackets into {@code \z}: in
     * the original engine {@code $} matches only at the very end, never before a final line break.
     */
    static String translate(String regex, boolean collapse) {
        StringBuilder out = new StringBuilder(regex.length() + 32);
        boolean inside = false;
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                if (collapse && regex.charAt(i + 1) == 'p' && i + 2 < regex.length() && regex.charAt(i + 2) == '{') {
                    int close = regex.indexOf('}', i + 3);
                    String members = close < 0 ? null : CATEGORY_CLASS.get(regex.substring(i + 3, close));
                    if (members != null) {
                        out.append(inside ? members : "[" + members + "]");
                        i = close;
                        continue;
                    }
                }
                out.append(c).append(regex.charAt(i + 1));
                i++;
                continue;
            }
            if (c == '[' && !inside) {
                inside = true;
            } else if (c == ']' && inside) {
                inside = false;
            } else if (c == '$' && !inside) {
                out.append("\\z");
                continue;
            }
            out.append(c);
        }
        return out.toString();
    }

    @Override
    public void split(CodepointText text, int start, int end, IntList lengths) {
        int last = start;
        if (collapsed) {
            Matcher m = pattern.matcher(text.collapsed());
            m.region(start, end);
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue;
                }
                if (m.start() > last) {
                    lengths.add(m.start() - last);
                }
                lengths.add(m.end() - m.start());
                last = m.end();
            }
        } else {
            Matcher m = pattern.matcher(text.plain());
            m.region(text.plainCharIndex(start), text.plainCharIndex(end));
            while (m.find()) {
                if (m.end() == m.start()) {
                    continue;
                }
                int s = text.codepointIndexOfPlainChar(m.start());
                int e = text.codepointIndexOfPlainChar(m.end());
                if (s > last) {
                    lengths.add(s - last);
                }
                lengths.add(e - s);
                last = e;
            }
        }
        if (last < end) {
            lengths.add(end - last);
        }
    }
}
