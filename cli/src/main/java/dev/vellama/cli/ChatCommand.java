package dev.vellama.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import dev.vellama.runtime.ContextShift;
import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.chat.ChatMessage;
import dev.vellama.runtime.chat.ReasoningFormat;
import dev.vellama.runtime.chat.ReasoningSplitter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code vellama chat}: an interactive conversation in the model's own chat template. One line is one message;
 * lines starting with {@code /} are commands. Reads piped standard input as well as a terminal.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = {"Chat with a model using its own chat template.",
                "Commands: /exit, /reset (forget the conversation), /system TEXT (set the system message), /stats."})
final class ChatCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelOptions modelOptions;

    @Mixin
    SamplingOptions sampling;

    @Mixin
    ContextShiftOptions contextShift;

    @Mixin
    SteeringOptions steering;

    @Mixin
    LoraOptions lora;

    @Mixin
    DraftOptions draft;

    @Option(names = {"-sys", "--system-prompt", "--system"}, paramLabel = "TEXT", description = "System message.")
    String system;

    @Option(names = "--chat-template", paramLabel = "NAME|FILE",
            description = "Render the chat with this Jinja file (or chatml) instead of the model's template.")
    String chatTemplate;

    @Option(names = "--chat-template-kwargs", paramLabel = "JSON",
            description = "Variables for the chat template, as a JSON object: '{\"enable_thinking\": false}', '{\"reasoning_effort\": \"high\"}'.")
    String chatTemplateKwargs;

    private dev.vellama.runtime.chat.ChatTemplate template;

    private final InputStream input;
    private final org.jline.terminal.Terminal terminal; // a given terminal (tests); null: the system's when interactive

    ChatCommand(InputStream input) {
        this(input, null);
    }

    ChatCommand(InputStream input, org.jline.terminal.Terminal terminal) {
        this.input = input;
        this.terminal = terminal;
    }

    ChatCommand() {
        this(System.in);
    }

    /** A terminal with line editing when one is given or stdin is a console; piped lines otherwise. */
    private ChatInput openInput(PrintWriter err) throws IOException {
        if (terminal != null) {
            return new ChatInput.Interactive(terminal);
        }
        if (System.console() != null && input == System.in) {
            return new ChatInput.Interactive(org.jline.terminal.TerminalBuilder.builder().system(true).build());
        }
        return new ChatInput.Piped(new BufferedReader(new InputStreamReader(input, StandardCharsets.UTF_8)), err);
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        GenerationParams params = sampling.params();
        java.util.Map<String, Object> templateVariables = ChatTemplateOption.variables(chatTemplateKwargs);
        try (ChatInput chat = openInput(spec.commandLine().getErr())) {
            // status lines go where the prompts go, so they keep their order on a terminal
            PrintWriter err = chat.status();
            java.nio.file.Path file = modelOptions.model(err);
            err.printf("loading %s ...%n", file);
            err.flush();
            long t0 = System.nanoTime();
            try (Model model = Model.load(file);
                 Session session = model.newSession(modelOptions.sessionOptions(model));
                 DraftOptions.Draft drafting = draft.apply(session, modelOptions.sessionOptions().threads())) {
                lora.apply(session);
                steering.apply(session);
                template = ChatTemplateOption.resolve(chatTemplate, templateVariables, model);
                err.printf("%s: %,d parameters, context %d, %s; loaded in %.2f s%n", model.name(), model.parameterCount(),
                        session.contextSize(), session.kernelDescription(), (System.nanoTime() - t0) / 1e9);
                if (template.isFallback()) {
                    err.println("the model has no chat template; using the plain fallback format");
                }
                err.println("type a message, or /exit, /reset, /system TEXT, /stats; end a line with \\ or write \"\"\" to go on"
                        + " to the next line; Ctrl-C stops a reply");
                err.flush();
                converse(chat, session, params, out, err);
            }
        }
        return 0;
    }

    /** Message by message until the input ends or the user leaves; commands start with a slash. */
    private void converse(ChatInput chat, Session session, GenerationParams params, PrintWriter out, PrintWriter err)
            throws IOException {
        List<ChatMessage> messages = new ArrayList<>();
        String systemText = system;
        GenerationResult last = null;
        while (true) {
            String line = chat.next();
            if (line == null || line.strip().equals("/exit")) {
                return;
            }
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            if (text.equals("/reset")) {
                messages.clear();
                session.reset();
                err.println("(conversation cleared)");
                err.flush();
                continue;
            }
            if (text.startsWith("/system")) {
                systemText = text.substring("/system".length()).strip();
                messages.clear();
                session.reset();
                err.println(systemText.isEmpty() ? "(system message removed; conversation cleared)" : "(system message set; conversation cleared)");
                err.flush();
                continue;
            }
            if (text.equals("/stats")) {
                printStats(err, session, last);
                continue;
            }
            if (text.startsWith("/")) {
                err.println("unknown command " + text.split("\\s+")[0] + "; commands: /exit, /reset, /system TEXT, /stats");
                err.flush();
                continue;
            }
            ContextShift policy = contextShift.forChat(session.model().tokenizer().bos());
            GenerationParams turnParams = params.withContextShift(policy);
            List<ChatMessage> turn = new ArrayList<>();
            if (systemText != null && !systemText.isEmpty()) {
                turn.add(ChatMessage.system(systemText));
            }
            turn.addAll(messages);
            turn.add(ChatMessage.user(text));
            int[] fitted = null;
            if (policy.mode() == ContextShift.Mode.DROP_OLDEST_TURNS) {
                Session.FittedConversation fit;
                try {
                    fit = session.fitConversation(turn, template);
                } catch (dev.vellama.runtime.ContextOverflowException e) {
                    err.println("vellama: " + e.getMessage() + "; it was not sent");
                    err.flush();
                    continue;
                }
                if (fit.droppedMessages() > 0) {
                    messages.subList(0, fit.droppedMessages()).clear();
                    err.printf("(the context is full: the oldest %d message%s dropped)%n", fit.droppedMessages(),
                            fit.droppedMessages() == 1 ? " was" : "s were");
                    err.flush();
                }
                fitted = fit.tokens();
            }
            int[] prompt = fitted;
            ReasoningPrinter print = new ReasoningPrinter(out,
                    ReasoningFormat.of(template).splitter("", session.model().tokenizer()::tokenText));
            GenerationResult[] reply = new GenerationResult[1];
            chat.whileReplying(() -> reply[0] = prompt != null ? session.generate(prompt, turnParams, print)
                    : session.chat(turn, template, turnParams, print), session::cancel);
            last = reply[0];
            print.finish();
            out.println();
            out.flush();
            if (last.stopReason() == dev.vellama.runtime.StopReason.CANCELLED) {
                err.println("(reply stopped)");
                err.flush();
            }
            if (last.forgottenTokens() > 0) {
                err.printf("(the context was full: the oldest %d tokens were forgotten%s)%n", last.forgottenTokens(),
                        systemText != null && !systemText.isEmpty() ? "; the system message is kept" : "");
                err.flush();
            }
            messages.add(ChatMessage.user(text));
            // the answer only: templates leave earlier turns' reasoning out (gpt-oss's needs it out of the content)
            messages.add(ChatMessage.assistant(print.answer().strip()));
        }
    }

    /**
     * Prints a reply as it comes, its reasoning (if the model writes one apart) between {@code Thinking...} and
     * {@code ...done thinking.} as ollama shows it, then the answer.
     */
    private static final class ReasoningPrinter implements java.util.function.Consumer<dev.vellama.runtime.GeneratedToken> {
        private final PrintWriter out;
        private final ReasoningSplitter splitter;
        private boolean thinking;

        ReasoningPrinter(PrintWriter out, ReasoningSplitter splitter) {
            this.out = out;
            this.splitter = splitter;
        }

        @Override
        public void accept(dev.vellama.runtime.GeneratedToken t) {
            print(splitter.accept(t.id(), t.text()));
        }

        void finish() {
            print(splitter.finish());
            if (thinking) {
                out.print("\n...done thinking.\n");
                thinking = false;
            }
        }

        String answer() {
            return splitter.content();
        }

        private void print(ReasoningSplitter.Delta d) {
            if (!d.reasoning().isEmpty()) {
                if (!thinking) {
                    out.print("Thinking...\n");
                    thinking = true;
                }
                out.print(d.reasoning());
            }
            if (!d.content().isEmpty()) {
                if (thinking) {
                    out.print("\n...done thinking.\n\n");
                    thinking = false;
                }
                out.print(d.content());
            }
            out.flush();
        }
    }

    private static void printStats(PrintWriter err, Session session, GenerationResult last) {
        err.printf("context: %d of %d tokens used%n", session.position(), session.contextSize());
        if (last != null) {
            err.printf("last reply: prompt %d tokens at %.2f tokens/s, generation %d tokens at %.2f tokens/s, stop: %s%n",
                    last.timings().promptTokens(), last.timings().promptTokensPerSecond(),
                    last.timings().generatedTokens(), last.timings().generationTokensPerSecond(), last.stopReason().jsonName());
        }
        DraftOptions.report(session, err);
        err.flush();
    }
}
