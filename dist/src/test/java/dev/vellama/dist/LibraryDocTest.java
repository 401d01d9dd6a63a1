package dev.vellama.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.vellama.testdata.TestData;

/**
 * docs/library.md's Java blocks, as they stand there: each compiles against the library, and the quick start runs
 * on a model in a JVM of its own started as the page says. The README shows the same quick start.
 */
class LibraryDocTest {
    private static final Path ROOT = Path.of(System.getProperty("vellama.project.root", "..")).toAbsolutePath().normalize();

    static List<String> blocks(Path markdown, String language) throws Exception {
        Matcher m = Pattern.compile("(?ms)^```" + language + "\\n(.*?)^```$").matcher(Files.readString(markdown));
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    private static String className(String source) {
        Matcher m = Pattern.compile("public class (\\w+)").matcher(source);
        assertTrue(m.find(), "no public class in\n" + source);
        return m.group(1);
    }

    @Test
    void quickStartCompilesAndRuns(@TempDir Path tmp) throws Exception {
        List<String> blocks = blocks(ROOT.resolve("docs/library.md"), "java");
        assertEquals(3, blocks.size(), "docs/library.md: the quick start, the tour and code infill");
        String quickStart = blocks.get(0);
        assertEquals("QuickStart", className(quickStart));
        long lines = quickStart.lines().filter(l -> !l.isBlank() && !l.startsWith("import ")).count();
        assertTrue(lines <= 14, "the quick start stays short: " + lines + " lines");

        // compile every block against the test class path, which holds vellama-runtime and what it brings
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        List<String> args = new ArrayList<>(List.of("--release", "25", "-Xlint:all,-path", "-Werror",
                "-d", classes.toString(), "-cp", System.getProperty("java.class.path")));
        for (String block : blocks) {
            Path file = src.resolve(className(block) + ".java");
            Files.writeString(file, block);
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, args.toArray(String[]::new));
        assertEquals(0, rc, diagnostics.toString(StandardCharsets.UTF_8));

        // run the quick start as docs/library.md's command line does, on the trained stories model
        Path model = TestData.model("stories-llama2-q8_0.gguf");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", classes + File.pathSeparator + System.getProperty("java.class.path"),
                "QuickStart", model.toString())
                .redirectError(tmp.resolve("stderr.txt").toFile())
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out + Files.readString(tmp.resolve("stderr.txt")));
        String err = Files.readString(tmp.resolve("stderr.txt"));
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
        // 32 tokens of the stories model's English: words, not nothing
        assertTrue(out.strip().split("\\s+").length >= 8, out);
    }

    @Test
    void readmeShowsTheSameQuickStart() throws Exception {
        String quickStart = blocks(ROOT.resolve("docs/library.md"), "java").get(0);
        assertTrue(blocks(ROOT.resolve("README.md"), "java").contains(quickStart),
                "README.md's Library section shows docs/library.md's quick start, character for character");
    }

    @Test
    void dependencySnippetNamesThisRelease() throws Exception {
        // the version a user copies is the one being released: the project's, without -SNAPSHOT
        String release = System.getProperty("vellama.version", "").replace("-SNAPSHOT", "");
        assertFalse(release.isEmpty());
        String xml = blocks(ROOT.resolve("docs/library.md"), "xml").get(0);
        assertTrue(xml.contains("<artifactId>vellama-bom</artifactId>\n      <version>" + release + "</version>"), xml);
    }
}
