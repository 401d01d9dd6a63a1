package dev.vellama.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

import picocli.CommandLine;

/**
 * Turns any failure of a command into one readable line on stderr and exit code 1; a stack trace only with
 * {@code VELLAMA_DEBUG=1}.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parseResult) {
        cl.getErr().println("vellama: " + describe(ex));
        if ("1".equals(System.getenv("VELLAMA_DEBUG"))) {
            ex.printStackTrace(cl.getErr());
        }
        cl.getErr().flush();
        return 1;
    }

    /**
     * A command line picocli cannot read (unknown option, missing value, a value of the wrong type): one line that
     * names the problem and where the help is, and exit code 2, as usage errors have in Unix tools.
     */
    static int usage(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        cl.getErr().println("vellama: " + ex.getMessage());
        cl.getErr().println("see '" + cl.getCommandSpec().qualifiedName() + " --help'");
        cl.getErr().flush();
        return 2;
    }

    static String describe(Throwable ex) {
        if (ex instanceof NoSuchFileException e) {
            return "file not found: " + e.getFile();
        }
        if (ex instanceof AccessDeniedException e) {
            return "permission denied: " + e.getFile();
        }
        if (ex instanceof OutOfMemoryError e) {
            return e.getMessage() != null && e.getMessage().contains("direct buffer memory")
                    ? "out of direct memory; give the JVM more with VELLAMA_JAVA_OPTS=-XX:MaxDirectMemorySize=..."
                    : "out of memory; give the JVM more with VELLAMA_JAVA_OPTS=-Xmx...";
        }
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.getClass().getSimpleName() : m;
    }
}
