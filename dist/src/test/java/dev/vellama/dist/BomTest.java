package dev.vellama.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * bom/pom.xml has no parent (so importing it brings no third-party versions), so nothing makes it follow the
 * project by itself: this checks that it carries the project's version and lists exactly the library modules.
 */
class BomTest {
    private static final Path ROOT = Path.of(System.getProperty("vellama.project.root", "..")).toAbsolutePath().normalize();

    @Test
    void bomFollowsTheProject() throws Exception {
        String bom = Files.readString(ROOT.resolve("bom/pom.xml"));
        Matcher own = Pattern.compile("<artifactId>vellama-bom</artifactId>\\s*<version>([^<]+)</version>").matcher(bom);
        own.find();
        assertEquals(System.getProperty("vellama.version"), own.group(1), "bom/pom.xml's version");

        List<String> managed = new ArrayList<>();
        Matcher m = Pattern.compile("<artifactId>(vellama-[a-z0-9]+)</artifactId>\\s*<version>\\$\\{project.version}</version>")
                .matcher(bom);
        while (m.find()) {
            managed.add(m.group(1));
        }
        // the modules that publish -sources and -javadoc jars are the library; the BOM manages exactly those
        List<String> library = new ArrayList<>();
        for (String module : List.of("gguf", "quant", "runtime", "server", "langchain4j", "cli", "bench", "dist")) {
            if (Files.readString(ROOT.resolve(module).resolve("pom.xml")).contains("<artifactId>maven-javadoc-plugin</artifactId>")) {
                library.add("vellama-" + module);
            }
        }
        assertEquals(List.of("vellama-gguf", "vellama-quant", "vellama-runtime", "vellama-server", "vellama-langchain4j"), library);
        assertEquals(library, managed);
    }
}
