package dev.vellama.cli;

import dev.vellama.runtime.ContextShift;
import picocli.CommandLine.Option;

/** llama.cpp's {@code --context-shift} and {@code --keep}, for the commands that generate. */
final class ContextShiftOptions {
    @Option(names = "--context-shift", negatable = true,
            description = "When the context fills, forget the oldest tokens after the kept ones and go on (default: on in"
                    + " chat, where --no-context-shift drops the oldest messages instead; off in run).")
    Boolean contextShift;

    @Option(names = "--keep", paramLabel = "N", defaultValue = "0",
            description = "Prompt tokens after BOS a context shift never forgets; -1: the whole prompt (default: ${DEFAULT-VALUE};"
                    + " chat keeps its system message).")
    int keep;

    /** The policy for a completion of {@code prompt} (its tokens): llama.cpp's meaning of --keep, BOS kept. */
    ContextShift forPrompt(int[] prompt, int bos) {
        check();
        ContextShift mode = contextShift == null || !contextShift ? ContextShift.STOP : ContextShift.SHIFT;
        int withBos = prompt.length > 0 && prompt[0] == bos ? 1 : 0;
        return mode.keeping(keep < 0 ? prompt.length : Math.min(prompt.length, keep + withBos));
    }

    /** The policy for a chat: shifting keeps the system message (or --keep tokens after BOS), or old turns go. */
    ContextShift forChat(int bos) {
        check();
        if (contextShift != null && !contextShift) {
            return ContextShift.DROP_OLDEST_TURNS;
        }
        return keep > 0 ? ContextShift.SHIFT.keeping(keep + (bos >= 0 ? 1 : 0)) : ContextShift.SHIFT;
    }

    private void check() {
        if (keep < -1) {
            throw new IllegalArgumentException("--keep must be -1 (the whole prompt), 0 or more");
        }
    }
}
