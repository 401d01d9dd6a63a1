package dev.vellama.runtime;

/**
 * A share of right answers with its 95% Wilson score interval, which stays inside [0, 1] and is honest for few
 * tasks and for accuracies near 0 or 1.
 *
 * @param right how many were right
 * @param total how many there were
 */
public record Accuracy(int right, int total) {
    private static final double Z = 1.959963984540054;

    /**
     * Checks the counts.
     *
     * @throws IllegalArgumentException when {@code total} is below 1 or {@code right} outside 0..total
     */
    public Accuracy {
        if (total < 1 || right < 0 || right > total) {
            throw new IllegalArgumentException(right + " right of " + total);
        }
    }

    /** {@return right / total} */
    public double value() {
        return (double) right / total;
    }

    /** {@return the lower end of the 95% interval} */
    public double low() {
        return centre() - halfWidth();
    }

    /** {@return the upper end of the 95% interval} */
    public double high() {
        return centre() + halfWidth();
    }

    private double centre() {
        double p = value();
        return (p + Z * Z / (2 * total)) / (1 + Z * Z / total);
    }

    private double halfWidth() {
        double p = value();
        return Z / (1 + Z * Z / total) * Math.sqrt(p * (1 - p) / total + Z * Z / (4.0 * total * total));
    }
}
