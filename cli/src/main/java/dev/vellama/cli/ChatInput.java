package dev.vellama.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;

import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;

/**
 * Where the chat's messages come from: a terminal, with line editing, history and Ctrl-C, or piped lines. Both
 * join a line that ends in a backslash with the next, and take a block between two lines of {@code """} as one
 * message.
 */
interface ChatInput extends AutoCloseable {
    /** The next message (maybe several lines), or null at the end of input or when the user asks to leave. */
    String next() throws IOException;

    /** Where status lines go so that they keep their place among prompts and replies. */
    PrintWriter status();

    /** Runs {@code reply}; in a terminal, Ctrl-C meanwhile calls {@code stop} instead of ending the program. */
    void whileReplying(Runnable reply, Runnable stop);

    @Override
    void close() throws IOException;

    /** Joins continuation lines and {@code """} blocks; {@code lines} gives one raw line at a time, null at the end. */
    static String assemble(String first, LineSource lines) throws IOException {
        if (first == null) {
            return null;
        }
        if (first.strip().equals("\"\"\"")) {
            StringBuilder block = new StringBuilder();
            String line;
            while ((line = lines.next(true)) != null && !line.strip().equals("\"\"\"")) {
                block.append(block.isEmpty() ? "" : "\n").append(line);
            }
            return block.toString();
        }
        StringBuilder text = new StringBuilder(first);
        while (text.toString().endsWith("\\")) {
            text.setLength(text.length() - 1);
            String line = lines.next(true);
            if (line == null) {
                break;
            }
            text.append('\n').append(line);
        }
        return text.toString();
    }

    /** One raw line; {@code continued} says whether it continues a message (a terminal shows another prompt). */
    @FunctionalInterface
    interface LineSource {
        String next(boolean continued) throws IOException;
    }

    /** Lines from a pipe or file. */
    final class Piped implements ChatInput {
        private final BufferedReader reader;
        private final PrintWriter err;

        Piped(BufferedReader reader, PrintWriter err) {
            this.reader = reader;
            this.err = err;
        }

        @Override
        public String next() throws IOException {
            return assemble(reader.readLine(), continued -> reader.readLine());
        }

        @Override
        public PrintWriter status() {
            return err;
        }

        @Override
        public void whileReplying(Runnable reply, Runnable stop) {
            reply.run();
        }

        @Override
        public void close() throws IOException {
            reader.close();
        }
    }

    /**
     * A terminal through JLine: arrows, history, Ctrl-C. Ctrl-C during a reply stops the reply; at the prompt it
     * clears what was typed, and on an empty prompt it leaves, as does Ctrl-D.
     */
    final class Interactive implements ChatInput {
        private final Terminal terminal;
        private final LineReader reader;

        Interactive(Terminal terminal) {
            this.terminal = terminal;
            this.reader = LineReaderBuilder.builder().terminal(terminal)
                    .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true) // "!" is text, not a history reference
                    .build();
        }

        @Override
        public String next() throws IOException {
            while (true) {
                try {
                    return assemble(reader.readLine("> "), continued -> reader.readLine(". "));
                } catch (UserInterruptException e) {
                    if (e.getPartialLine() == null || e.getPartialLine().isEmpty()) {
                        return null;
                    }
                    // Ctrl-C with text typed: drop the text, ask again
                } catch (EndOfFileException e) {
                    return null;
                }
            }
        }

        @Override
        public PrintWriter status() {
            return terminal.writer();
        }

        @Override
        public void whileReplying(Runnable reply, Runnable stop) {
            Terminal.SignalHandler previous = terminal.handle(Terminal.Signal.INT, signal -> stop.run());
            // a terminal JLine drives itself reads keys only while unpaused: keep it reading, so Ctrl-C arrives
            boolean paused = terminal.paused();
            if (paused) {
                terminal.resume();
            }
            try {
                reply.run();
            } finally {
                if (paused) {
                    terminal.pause();
                }
                terminal.handle(Terminal.Signal.INT, previous);
            }
        }

        @Override
        public void close() throws IOException {
            terminal.close();
        }
    }
}
