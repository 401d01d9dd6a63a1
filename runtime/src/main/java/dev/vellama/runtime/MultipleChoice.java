package dev.vellama.runtime;

import java.util.ArrayList;
import java.util.List;

import dev.vellama.VellamaException;

/**
 * Multiple-choice scoring as llama-perplexity's {@code --hellaswag} does it: each ending is tokenized with its
 * context ({@code context + " " + ending}, BOS added, special tokens not parsed); the tokens all endings share
 * from the start are the prompt, and an ending's score is the mean log-probability of its own tokens after that
 * shared prefix. The ending with the highest score (the first, on a tie) is the model's answer.
 */
public final class MultipleChoice {
    private MultipleChoice() {
    }

    /**
     * A question: a context, its candidate endings, and the index of the right one.
     *
     * @param context the text before the endings
     * @param endings the candidate endings, at least two
     * @param label   the index of the right ending
     */
    public record Task(String context, List<String> endings, int label) {
        /**
         * Copies the endings and checks the label.
         *
         * @throws IllegalArgumentException with fewer than two endings or a label outside them
         */
        public Task {
            endings = List.copyOf(endings);
            if (endings.size() < 2) {
                throw new IllegalArgumentException("a multiple-choice task needs at least two endings, not " + endings.size());
            }
            if (label < 0 || label >= endings.size()) {
                throw new IllegalArgumentException("label " + label + " of " + endings.size() + " endings");
            }
        }
    }

    /**
     * Each ending's score, and the index of the best.
     *
     * @param scores each ending's mean log-probability
     * @param best   the index of the highest (the first, on a tie)
     */
    public record Scores(double[] scores, int best) {
    }

    /**
     * Scores the endings of {@code task} on {@code session} (which forgets its conversation).
     *
     * @param session the session to evaluate on
     * @param task    the task
     * @return the endings' scores
     * @throws VellamaException when the endings share all their tokens (nothing to score) or a sequence does not
     *                          fit the session's context
     */
    public static Scores score(Session session, Task task) {
        Model model = session.model();
        int n = task.endings().size();
        List<int[]> seqs = new ArrayList<>(n);
        for (String ending : task.endings()) {
            seqs.add(model.tokenizer().encode(task.context() + " " + ending, true, false));
        }
        int prefix = 0;
        int shortest = seqs.stream().mapToInt(s -> s.length).min().orElseThrow();
        while (prefix < shortest && sameAt(seqs, prefix)) {
            prefix++;
        }
        if (prefix == 0 || prefix == shortest) {
            throw new VellamaException("the endings of the task \"" + abbreviate(task.context())
                    + "\" leave no tokens of their own to score (or share no prompt)");
        }
        double[] scores = new double[n];
        int vocab = model.config().vocabSize();
        int best = 0;
        for (int s = 0; s < n; s++) {
            int[] seq = seqs.get(s);
            if (seq.length > session.contextSize()) {
                throw new ContextOverflowException("a task of " + seq.length + " tokens does not fit the context of "
                        + session.contextSize());
            }
            float[] logits = session.evaluateAll(seq);
            double sum = 0;
            for (int j = prefix - 1; j < seq.length - 1; j++) {
                sum += logits[j * vocab + seq[j + 1]] - Logprobs.logSumExp(logits, j * vocab, vocab);
            }
            scores[s] = sum / (seq.length - prefix);
            if (scores[s] > scores[best]) {
                best = s;
            }
        }
        session.reset();
        return new Scores(scores, best);
    }

    private static boolean sameAt(List<int[]> seqs, int i) {
        for (int[] s : seqs) {
            if (s[i] != seqs.get(0)[i]) {
                return false;
            }
        }
        return true;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    /**
     * Reads llama.cpp's HellaSwag file: six lines per task (the context, the right ending's index, four endings).
     *
     * @param text the file's text
     * @return the tasks, in the file's order
     * @throws IllegalArgumentException when the line count is not a multiple of six or an index is not a number
     */
    public static List<Task> parseHellaswag(String text) {
        List<String> lines = text.lines().toList();
        if (lines.size() % 6 != 0) {
            throw new IllegalArgumentException("a HellaSwag file has six lines per task; this one has " + lines.size() + " lines");
        }
        List<Task> tasks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i += 6) {
            int label;
            try {
                label = Integer.parseInt(lines.get(i + 1).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("line " + (i + 2) + ": the right ending's index, not '" + lines.get(i + 1) + "'");
            }
            tasks.add(new Task(lines.get(i), lines.subList(i + 2, i + 6), label));
        }
        return tasks;
    }
}
