package dev.vellama.runtime.tokenizer;

import java.util.Arrays;

/**
 * Hugging Face's {@code clean_up_tokenization_spaces} as llama.cpp applies it to decoded bytes, in three passes:
 * no space before {@code ? ! . ,}; a lone apostrophe between spaces loses both spaces; no space before the
 * contractions {@code 's 'm 're 've}.
 */
final class SpaceCleaner {
    private SpaceCleaner() {}

    static byte[] clean(byte[] input) {
        byte[] t = input.clone();
        int total = t.length;

        int n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            t[total++] = x;
        }

        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (x == '\'' && i + 1 < n && t[i - 1] == ' ' && t[i + 1] == ' ') {
                total--;     // the space before
                t[++i] = 0;  // and the one after, which is skipped
            }
            t[total++] = x;
        }

        n = total;
        total = n > 0 ? 1 : 0;
        for (int i = 1; i < n; i++) {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < n) {
                byte x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (i + 2 < n) {
                    byte x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            t[total++] = x;
        }
        return Arrays.copyOf(t, total);
    }
}
