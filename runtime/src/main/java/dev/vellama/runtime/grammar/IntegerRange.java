package dev.vellama.runtime.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * GBNF for the decimal integers from {@code lo} to {@code hi}, without leading zeros or "-0": each length of digits
 * apart, and within a length the classic split of a range into a lower edge, whole middle digits and an upper edge.
 * An open side stops at 16 digits, as llama.cpp's {@code integral-part} does.
 */
final class IntegerRange {
    /** The largest magnitude a bound may have (15 digits). */
    static final long LIMIT = 999_999_999_999_999L;
    /** Where an open side stops: 16 digits. */
    private static final long OPEN = 9_999_999_999_999_999L;

    private IntegerRange() {
    }

    /** Bounds of {@link Long#MIN_VALUE} or {@link Long#MAX_VALUE} mean open on that side. */
    static String gbnf(long lo, long hi) {
        lo = lo == Long.MIN_VALUE ? -OPEN : lo;
        hi = hi == Long.MAX_VALUE ? OPEN : hi;
        List<String> alternatives = new ArrayList<>();
        if (lo < 0) {
            alternatives.add("\"-\" (" + nonNegative(Math.max(1, -Math.min(hi, -1)), -lo) + ")");
        }
        if (hi >= 0) {
            alternatives.add(nonNegative(Math.max(0, lo), hi));
        }
        return String.join(" | ", alternatives);
    }

    private static String nonNegative(long a, long b) {
        List<String> alternatives = new ArrayList<>();
        int fullFrom = -1; // a run of lengths wholly inside [a, b], written as one repetition
        int la = Long.toString(a).length();
        int lb = Long.toString(b).length();
        for (int len = la; len <= lb; len++) {
            long first = len == 1 ? 0 : pow10(len - 1);
            long last = pow10(len) - 1;
            long x = Math.max(a, first);
            long y = Math.min(b, last);
            if (len > 1 && x == first && y == last) {
                fullFrom = fullFrom < 0 ? len : fullFrom;
                if (len == lb) {
                    alternatives.add(full(fullFrom, len));
                }
                continue;
            }
            if (fullFrom > 0) {
                alternatives.add(full(fullFrom, len - 1));
                fullFrom = -1;
            }
            alternatives.add(sameLength(Long.toString(x), Long.toString(y)));
        }
        return String.join(" | ", alternatives);
    }

    /** Every number of {@code from} to {@code to} digits (from ≥ 2). */
    private static String full(int from, int to) {
        return "[1-9] [0-9]" + (from == to ? (from - 1 == 1 ? "" : "{" + (from - 1) + "}")
                : "{" + (from - 1) + "," + (to - 1) + "}");
    }

    /** Digit strings of one length from {@code x} to {@code y} (leading zeros allowed: this is a suffix). */
    private static String sameLength(String x, String y) {
        int n = x.length();
        if (x.chars().allMatch(c -> c == '0') && y.chars().allMatch(c -> c == '9')) {
            return n == 1 ? "[0-9]" : "[0-9]{" + n + "}";
        }
        char x0 = x.charAt(0);
        char y0 = y.charAt(0);
        if (n == 1) {
            return x0 == y0 ? "[" + x0 + "]" : "[" + x0 + "-" + y0 + "]";
        }
        String xs = x.substring(1);
        String ys = y.substring(1);
        if (x0 == y0) {
            return "[" + x0 + "] (" + sameLength(xs, ys) + ")";
        }
        List<String> alternatives = new ArrayList<>();
        boolean xZeros = xs.chars().allMatch(c -> c == '0');
        boolean yNines = ys.chars().allMatch(c -> c == '9');
        if (!xZeros) {
            alternatives.add("[" + x0 + "] (" + sameLength(xs, "9".repeat(n - 1)) + ")");
        }
        char from = xZeros ? x0 : (char) (x0 + 1);
        char to = yNines ? y0 : (char) (y0 - 1);
        if (from <= to) {
            alternatives.add((from == to ? "[" + from + "]" : "[" + from + "-" + to + "]")
                    + (n - 1 == 1 ? " [0-9]" : " [0-9]{" + (n - 1) + "}"));
        }
        if (!yNines) {
            alternatives.add("[" + y0 + "] (" + sameLength("0".repeat(n - 1), ys) + ")");
        }
        return String.join(" | ", alternatives);
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }
}
