package dev.vellama.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vellama.runtime.ControlVector;
import dev.vellama.testdata.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NeuronsCommandTest {
    private static final String MODEL = TestData.model("stories-llama2-q8_0.gguf").toString();

    @Test
    void ranksNeuronsAndWritesASteeringVectorThatRunTakes(@TempDir Path tmp) throws IOException {
        Path cv = tmp.resolve("success.gguf");
        CliRunner r = CliRunner.run("neurons", "-m", MODEL, "--pos", "../docs/examples/success.txt", "--neg",
                "../docs/examples/failure.txt", "--layer", "3", "--top", "4", "--json", "--steering-vector", cv.toString(), "-t", "2");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertEquals("ffn_act", doc.get("point").asText());
        assertEquals(4, doc.get("neurons").size());
        for (JsonNode n : doc.get("neurons")) {
            assertEquals(3, n.get("layer").asInt());
            assertTrue(n.get("neuron").asInt() >= 0 && n.get("neuron").asInt() < 768);
            assertTrue(n.get("accuracy").asDouble() >= 0.5 && n.get("accuracy").asDouble() <= 1);
        }
        assertEquals(5, ControlVector.read(cv, 1f).lastLayer());
        CliRunner steered = CliRunner.run("run", "-m", MODEL, "-p", "The function", "-n", "8", "--temp", "0",
                "--control-vector-scaled", cv + ":0.5", "-t", "2");
        assertEquals(0, steered.exitCode(), steered.err());
        CliRunner table = CliRunner.run("neurons", "-m", MODEL, "--pos", "../docs/examples/success.txt", "--neg",
                "../docs/examples/failure.txt", "--point", "residual", "--top", "3", "-t", "2");
        assertEquals(4, table.out().strip().lines().count(), table.out());
    }

    @Test
    void badArgumentsGetOneLine(@TempDir Path tmp) throws IOException {
        Path empty = Files.writeString(tmp.resolve("empty.txt"), "\n");
        String[][] bad = {
                {"--pos", "nope.txt", "--neg", "../docs/examples/failure.txt"},
                {"--pos", empty.toString(), "--neg", "../docs/examples/failure.txt"},
                {"--pos", "../docs/examples/success.txt", "--neg", "../docs/examples/failure.txt", "--point", "ffn_gate"},
                {"--pos", "../docs/examples/success.txt", "--neg", "../docs/examples/failure.txt", "--layer", "6"},
        };
        for (String[] args : bad) {
            CliRunner r = CliRunner.runWith(new String[] {"neurons", "-m", MODEL}, args);
            assertEquals(1, r.exitCode(), String.join(" ", args));
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }
}
