package dev.vellama.runtime.chat.jinja;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/** Python's {@code strftime} in the C locale, for {@code strftime_now(...)} in templates such as Llama 3.2's. */
final class PyStrftime {
    private PyStrftime() {
    }

    static String format(ZonedDateTime t, String pattern) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 >= pattern.length()) {
                out.append(c);
                continue;
            }
            char code = pattern.charAt(++i);
            boolean noPad = code == '-' && i + 1 < pattern.length();
            if (noPad) {
                code = pattern.charAt(++i);
            }
            out.append(field(t, code, noPad));
        }
        return out.toString();
    }

    private static String field(ZonedDateTime t, char code, boolean noPad) {
        return switch (code) {
            case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
            case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
            case 'd' -> pad(t.getDayOfMonth(), 2, noPad);
            case 'e' -> String.format("%2d", t.getDayOfMonth());
            case 'm' -> pad(t.getMonthValue(), 2, noPad);
            case 'y' -> pad(t.getYear() % 100, 2, noPad);
            case 'Y' -> Integer.toString(t.getYear());
            case 'H' -> pad(t.getHour(), 2, noPad);
            case 'I' -> pad(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, 2, noPad);
            case 'M' -> pad(t.getMinute(), 2, noPad);
            case 'S' -> pad(t.getSecond(), 2, noPad);
            case 'p' -> t.getHour() < 12 ? "AM" : "PM";
            case 'j' -> pad(t.getDayOfYear(), 3, noPad);
            case 'Z' -> t.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
            case 'z' -> t.getOffset().getId().equals("Z") ? "+0000" : t.getOffset().getId().replace(":", "");
            case 'F' -> t.toLocalDate().toString();
            case 'T' -> pad(t.getHour(), 2, false) + ":" + pad(t.getMinute(), 2, false) + ":"
                    + pad(t.getSecond(), 2, false);
            case '%' -> "%";
            default -> "%" + code;
        };
    }

    private static String pad(int value, int width, boolean noPad) {
        String digits = Integer.toString(value);
        return noPad ? digits : "0".repeat(Math.max(0, width - digits.length())) + digits;
    }
}
