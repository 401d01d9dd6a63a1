package dev.vellama.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Classification by prompting, with k examples: each text is put in a template, after k other texts of the set
 * (drawn with a seed) written the same way with their labels, and the label whose words the model finds most
 * likely after it is the answer ({@link MultipleChoice}'s score: the label words' mean log-probability).
 *
 * @param template a prompt with {@code {text}} where the text goes, such as {@code "Review: {text}\nSentiment:"};
 *                 an example is the template, a space and its label
 * @param labels   the label words, such as {@code positive} and {@code negative}
 */
public record PromptClassification(String template, List<String> labels) {
    /**
     * A text and its label, one of {@link #labels}.
     *
     * @param text  the text
     * @param label its label word
     */
    public record Item(String text, String label) {
    }

    /**
     * Copies the labels and checks the template.
     *
     * @throws IllegalArgumentException when the template has no {@code {text}} or there are fewer than two labels
     */
    public PromptClassification {
        labels = List.copyOf(labels);
        if (!template.contains("{text}")) {
            throw new IllegalArgumentException("the template must say where the text goes with {text}");
        }
        if (labels.size() < 2) {
            throw new IllegalArgumentException("classification needs at least two labels, not " + labels);
        }
    }

    /**
     * The multiple-choice task of item {@code i} with {@code k} examples drawn from the other items by
     * {@code random}.
     *
     * @param items  the labelled texts
     * @param i      the item to ask about
     * @param k      how many examples
     * @param random draws the examples
     * @return the task, the labels as its endings
     * @throws IllegalArgumentException when an item's label is not one of the labels, or k is not below the
     *                                  number of items
     */
    public MultipleChoice.Task task(List<Item> items, int i, int k, Random random) {
        if (k < 0 || k >= items.size()) {
            throw new IllegalArgumentException(k + " examples from " + (items.size() - 1) + " other items");
        }
        List<Integer> others = new ArrayList<>();
        for (int j = 0; j < items.size(); j++) {
            if (j != i) {
                others.add(j);
            }
        }
        java.util.Collections.shuffle(others, random);
        StringBuilder prompt = new StringBuilder();
        for (int e = 0; e < k; e++) {
            Item ex = items.get(others.get(e));
            prompt.append(fill(ex.text())).append(' ').append(ex.label()).append("\n\n");
        }
        prompt.append(fill(items.get(i).text()));
        int label = labels.indexOf(items.get(i).label());
        if (label < 0) {
            throw new IllegalArgumentException("label '" + items.get(i).label() + "' of item " + i + " is not one of " + labels);
        }
        return new MultipleChoice.Task(prompt.toString(), labels, label);
    }

    private String fill(String text) {
        return template.replace("{text}", text);
    }

    /**
     * {@return the accuracy of {@code session}'s model on {@code items} with k examples each, drawn with {@code seed}}
     *
     * @param session the session to evaluate on
     * @param items   the labelled texts
     * @param k       examples per prompt
     * @param seed    the seed of the draw
     */
    public Accuracy evaluate(Session session, List<Item> items, int k, long seed) {
        Random random = new Random(seed);
        int right = 0;
        for (int i = 0; i < items.size(); i++) {
            MultipleChoice.Task t = task(items, i, k, random);
            right += MultipleChoice.score(session, t).best() == t.label() ? 1 : 0;
        }
        return new Accuracy(right, items.size());
    }
}
