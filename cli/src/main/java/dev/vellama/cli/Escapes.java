package dev.vellama.cli;

/**
 * The escape sequences llama.cpp's tools expand in text given on the command line ({@code \n}, {@code \r},
 * {@code \t}, {@code \'}, {@code \"}, {@code \\}, {@code \xNN}), so that the same argument gives the same tokens in
 * both. An unknown escape is kept as written.
 */
final class Escapes {
    private Escapes() {}

    static String expand(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 == s.length()) {
                out.append(c);
                continue;
            }
            char n = s.charAt(++i);
            switch (n) {
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case '\'' -> out.append('\'');
                case '"' -> out.append('"');
                case '\\' -> out.append('\\');
                case 'x' -> {
                    if (i + 2 < s.length() && isHex(s.charAt(i + 1)) && isHex(s.charAt(i + 2))) {
                        out.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                        i += 2;
                    } else {
                        out.append("\\x");
                    }
                }
                default -> out.append('\\').append(n);
            }
        }
        return out.toString();
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
    }
}
