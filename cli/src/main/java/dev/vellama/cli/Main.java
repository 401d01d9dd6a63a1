package dev.vellama.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Properties;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vellama} command: one subcommand per task, in picocli's usual style. */
@Command(name = "vellama",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Run GGUF language models on the JVM.",
        subcommands = {InfoCommand.class, TokenizeCommand.class, RunCommand.class, ChatCommand.class, BenchCommand.class,
                SynthCommand.class, ServeCommand.class, PerplexityCommand.class, QuantizeCommand.class, EmbedCommand.class, NeuronsCommand.class, EvalCommand.class, PullCommand.class, ListCommand.class, RmCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, System.in, out, err);
    }

    /** Runs the CLI reading standard input from {@code in} (the chat command reads it). */
    public static int run(String[] args, InputStream in, PrintWriter out, PrintWriter err) {
        return run(args, in, null, out, err);
    }

    /** As {@link #run(String[], InputStream, PrintWriter, PrintWriter)}, the chat on {@code terminal} when it is given. */
    static int run(String[] args, InputStream in, org.jline.terminal.Terminal terminal, PrintWriter out, PrintWriter err) {
        CommandLine.IFactory defaults = CommandLine.defaultFactory();
        CommandLine cl = new CommandLine(new Main(), new CommandLine.IFactory() {
            @Override
            @SuppressWarnings("unchecked")
            public <K> K create(Class<K> cls) throws Exception {
                return cls == ChatCommand.class ? (K) new ChatCommand(in, terminal) : defaults.create(cls);
            }
        });
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler(new CliErrors());
        cl.setParameterExceptionHandler(CliErrors::usage);
        int code;
        try {
            code = cl.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands its handler exceptions only; running out of heap or direct memory is one line too
            err.println("vellama: " + CliErrors.describe(e));
            code = 1;
        }
        out.flush();
        err.flush();
        return code;
    }

    /** As {@link #run(String[], InputStream, PrintWriter, PrintWriter)} with {@code env} as the environment (tests). */
    static int run(String[] args, InputStream in, PrintWriter out, PrintWriter err, java.util.Map<String, String> env) {
        return Environment.with(env, () -> run(args, in, out, err));
    }

    /**
     * The version Maven filtered into the jar, the commit it was built from, and the Java runtime running it (with
     * its home, which tells a self-contained archive's own runtime from an installed JDK).
     */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new String[] {"vellama " + built(p, "version") + " (commit " + built(p, "commit") + ")",
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ", "
                            + System.getProperty("java.vm.name") + ") in " + System.getProperty("java.home")};
        }

        /** A value Maven filtered in, or "unknown" where the build left it unset. */
        private static String built(Properties p, String key) {
            String v = p.getProperty(key, "").strip();
            return v.isEmpty() || v.startsWith("${") ? "unknown" : v;
        }
    }
}
