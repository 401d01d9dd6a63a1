package dev.vellama.cli;

import java.nio.file.Path;

/** A FILE:SCALE option value ({@code --control-vector-scaled}, {@code --lora-scaled}): a file and a finite factor. */
record ScaledFile(Path file, float scale) {
    /**
     * Reads {@code spec}; the scale follows the last colon, so a path may hold colons.
     *
     * @param option  the option's name, for the error
     * @param example an example value, for the error
     * @throws IllegalArgumentException when there is no colon or no finite number after it
     */
    static ScaledFile parse(String option, String spec, String example) {
        int colon = spec.lastIndexOf(':');
        float scale;
        try {
            scale = colon > 0 ? Float.parseFloat(spec.substring(colon + 1)) : Float.NaN;
        } catch (NumberFormatException e) {
            scale = Float.NaN;
        }
        if (!Float.isFinite(scale)) {
            throw new IllegalArgumentException(option + " takes FILE:SCALE, such as " + example + ", not '" + spec + "'");
        }
        return new ScaledFile(Path.of(spec.substring(0, colon)), scale);
    }
}
