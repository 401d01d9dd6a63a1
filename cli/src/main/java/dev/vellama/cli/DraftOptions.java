package dev.vellama.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import picocli.CommandLine.Option;

/** llama.cpp's speculative decoding options: a draft model that proposes tokens the model then checks. */
final class DraftOptions {
    @Option(names = {"-md", "--model-draft"}, paramLabel = "FILE",
            description = "A smaller model with the same vocabulary that drafts tokens for the model to check "
                    + "(speculative decoding: the same text, sooner when the draft is often right).")
    Path draftModel;

    @Option(names = {"--draft-max", "--draft", "--draft-n"}, paramLabel = "N", defaultValue = "8",
            description = "Tokens the draft proposes at a time (default: ${DEFAULT-VALUE}).")
    int draftMax;

    @Option(names = "--draft-p-min", paramLabel = "P", defaultValue = "0.75",
            description = "The least probability the draft must give a token to propose it (default: ${DEFAULT-VALUE}).")
    float draftMinProbability;

    /** The draft model and its session, while the command runs; closing it closes both. */
    record Draft(Model model, Session session) implements AutoCloseable {
        @Override
        public void close() {
            session.close();
            model.close();
        }
    }

    /**
     * Loads the draft model, opens its session on the CPU with the model's context and {@code threads} (0: all
     * processors), and sets it as {@code session}'s draft; null without {@code --model-draft}.
     */
    Draft apply(Session session, int threads) throws IOException {
        if (draftModel == null) {
            return null;
        }
        if (draftMax < 1) {
            throw new IllegalArgumentException("--draft-max must be at least 1, not " + draftMax);
        }
        if (!(draftMinProbability >= 0 && draftMinProbability <= 1)) {
            throw new IllegalArgumentException("--draft-p-min must be between 0 and 1, not " + draftMinProbability);
        }
        Model model;
        try {
            model = Model.load(draftModel);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such draft model: " + draftModel);
        }
        try {
            Session draft = model.newSession(SessionOptions.defaults().withContextSize(session.contextSize())
                    .withThreads(threads));
            try {
                session.useDraft(draft, draftMax, draftMinProbability);
            } catch (RuntimeException e) {
                draft.close();
                throw e;
            }
            return new Draft(model, draft);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** llama.cpp's line after a speculative run: how many proposals the model kept. */
    static void report(Session session, PrintWriter err) {
        Session.DraftStats s = session.draftStats();
        if (s.drafted() > 0) {
            err.printf("draft acceptance rate = %.5f (%d accepted / %d generated)%n", s.acceptance(), s.accepted(), s.drafted());
        }
    }
}
