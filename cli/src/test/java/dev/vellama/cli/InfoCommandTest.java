package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import dev.vellama.gguf.GgufFile;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class InfoCommandTest {
    static Stream<Path> sharedFiles() {
        return TestData.allGgufFiles();
    }

    @ParameterizedTest
    @MethodSource("sharedFiles")
    void reportsEverySharedFile(Path path) throws IOException {
        CliRunner r = CliRunner.run("info", path.toString());
        assertEquals(0, r.exitCode(), r.err());
        try (GgufFile f = GgufFile.open(path)) {
            assertTrue(r.out().contains("tensors:       " + f.tensors().size() + " "), r.out());
            assertTrue(r.out().contains("metadata keys: " + f.metadata().size() + ","));
            for (String key : f.metadata().keys()) {
                assertTrue(r.out().contains("  " + key + " "), "lists " + key);
            }
            f.tensors().forEach(t -> assertTrue(r.out().contains("  " + t.name() + " "), "lists " + t.name()));
        }
    }

    @Test
    void abbreviatesLongArraysAndTheChatTemplate() {
        CliRunner r = CliRunner.run("info", TestData.model("tiny-llama3-q8_0.gguf").toString());
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("... (128256 in all)]"), "token list abbreviated");
        assertTrue(r.out().lines().filter(l -> l.contains("tokenizer.chat_template")).allMatch(l -> l.length() < 300));
        assertTrue(r.out().contains("totals by type:"));
        assertTrue(r.out().lines().anyMatch(l -> l.trim().startsWith("Q8_0 ")));
    }

    @Test
    void jsonIsOneDocumentWithTheSameFacts() throws IOException {
        Path model = TestData.model("stories-llama2-q8_0.gguf");
        CliRunner r = CliRunner.run("info", "--json", model.toString());
        assertEquals(0, r.exitCode(), r.err());
        int tensors = 0;
        String architecture = null;
        try (JsonParser p = new JsonFactory().createParser(r.out())) {
            assertEquals(JsonToken.START_OBJECT, p.nextToken());
            int depth = 1;
            while (depth > 0) {
                JsonToken t = p.nextToken();
                if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                    depth++;
                } else if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
                    depth--;
                } else if (t == JsonToken.FIELD_NAME && depth == 1 && p.currentName().equals("architecture")) {
                    architecture = p.nextTextValue();
                } else if (t == JsonToken.FIELD_NAME && depth == 1 && p.currentName().equals("tensor_count")) {
                    p.nextToken();
                    tensors = p.getIntValue();
                }
            }
            assertEquals(null, p.nextToken(), "nothing after the document");
        }
        assertEquals("llama", architecture);
        assertEquals(57, tensors);
    }

    @Test
    void badFilesGiveOneLineAndExitOne(@TempDir Path tmp) throws IOException {
        Path bad = tmp.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1});
        CliRunner r = CliRunner.run("info", bad.toString());
        assertEquals(1, r.exitCode());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("vellama: file is truncated"), r.err());

        r = CliRunner.run("info", tmp.resolve("missing.gguf").toString());
        assertEquals(1, r.exitCode());
        assertEquals("vellama: file not found: " + tmp.resolve("missing.gguf"), r.err().strip());
    }

    @Test
    void versionAndHelp() {
        CliRunner r = CliRunner.run("--version");
        assertEquals(0, r.exitCode());
        // the version and commit the build recorded, then the JDK running it
        assertTrue(r.out().matches("(?s)vellama 0\\.\\d+\\.\\d+(-SNAPSHOT)? \\(commit ([0-9a-f]{12}(-dirty)?|unknown)\\)\\R"
                + "Java " + java.util.regex.Pattern.quote(Runtime.version() + " (" + System.getProperty("java.vendor"))
                + ".*\\) in .+\\R"), r.out());
        if (java.nio.file.Files.exists(java.nio.file.Path.of("../.git"))) { // built from a checkout: a real commit
            assertFalse(r.out().contains("(commit unknown)"), r.out());
        }
        r = CliRunner.run("info", "--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("Usage: vellama info"), r.out());
    }
}
