package dev.vellama.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.testdata.TestData;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Spark job in local mode (two task threads) on the shared stories model, against a plain session. */
class SparkGenerationTest {
    private static final String MODEL = TestData.model("stories-llama2-q8_0.gguf").toString();
    private static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("vellama-test")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void eachRowGetsWhatASessionGivesItAndSeededRowsRepeat(@TempDir Path tmp) throws Exception {
        Path input = tmp.resolve("prompts.jsonl");
        String[] prompts = {"Once upon a time", "The function returns", "To create a table", "The server started",
                "An index is", "Python is a"};
        StringBuilder jsonl = new StringBuilder();
        for (int i = 0; i < prompts.length; i++) {
            // even rows greedy, odd rows sampled with a seed of their own
            jsonl.append(String.format("{\"id\": %d, \"prompt\": \"%s\", \"max_tokens\": %d, \"temperature\": %s, \"seed\": %d}%n",
                    i, prompts[i], 8 + i, i % 2 == 0 ? "0" : "0.9", 100 + i));
        }
        Files.writeString(input, jsonl);
        Dataset<Row> in = spark.read().json(input.toString()).repartition(3);
        SparkGeneration job = new SparkGeneration(MODEL, 256, 1, 16);
        Map<Long, Row> first = job.generate(in).collectAsList().stream().collect(Collectors.toMap(r -> r.getLong(r.fieldIndex("id")), r -> r));
        Map<Long, Row> second = job.generate(in).collectAsList().stream().collect(Collectors.toMap(r -> r.getLong(r.fieldIndex("id")), r -> r));
        assertEquals(prompts.length, first.size());
        try (Model m = Model.load(Path.of(MODEL));
             Session s = m.newSession(SessionOptions.defaults().withContextSize(256).withThreads(1))) {
            for (int i = 0; i < prompts.length; i++) {
                Row r = first.get((long) i);
                GenerationParams p = GenerationParams.defaults().withMaxTokens(8 + i).withTemperature(i % 2 == 0 ? 0f : 0.9f)
                        .withSeed(100L + i);
                assertEquals(s.generate(prompts[i], p, null).text(), r.getString(r.fieldIndex("text")), "row " + i);
                assertEquals(r.getString(r.fieldIndex("text")), second.get((long) i).getString(r.fieldIndex("text")), "row " + i + " repeats");
                assertEquals(8 + i, r.getInt(r.fieldIndex("completion_tokens")));
                assertEquals("length", r.getString(r.fieldIndex("stop_reason")));
                assertTrue(r.getInt(r.fieldIndex("prompt_tokens")) > 1);
                assertEquals(prompts[i], r.getString(r.fieldIndex("prompt")), "the input's columns are kept");
            }
        }
    }

    @Test
    void theJobReadsAndWritesParquet(@TempDir Path tmp) {
        Path in = tmp.resolve("in.parquet");
        spark.createDataFrame(List.of(new Prompt("Once upon a time"), new Prompt("The function returns")), Prompt.class)
                .write().parquet(in.toString());
        Path out = tmp.resolve("out.parquet");
        GenerateJob.main(new String[] {"--model", MODEL, "--input", in.toString(), "--output", out.toString(),
                "--format", "parquet", "--ctx", "256", "--max-tokens", "6"});
        spark = SparkSession.builder().master("local[2]").appName("vellama-test").config("spark.ui.enabled", "false").getOrCreate();
        List<Row> rows = spark.read().parquet(out.toString()).collectAsList();
        assertEquals(2, rows.size());
        for (Row r : rows) {
            assertEquals(6, r.getInt(r.fieldIndex("completion_tokens")));
            assertTrue(Arrays.asList(r.schema().fieldNames()).containsAll(List.of("prompt", "text", "generation_ms")));
        }
    }

    @Test
    void aDatasetWithoutPromptsIsRefused() {
        Dataset<Row> noPrompt = spark.range(3).toDF("n");
        assertThrows(IllegalArgumentException.class, () -> new SparkGeneration(MODEL, 256, 1, 4).generate(noPrompt));
    }

    /** A bean for a one-column Parquet file. */
    public static final class Prompt implements java.io.Serializable {
        private String prompt;

        public Prompt() {
        }

        Prompt(String prompt) {
            this.prompt = prompt;
        }

        public String getPrompt() {
            return prompt;
        }

        public void setPrompt(String prompt) {
            this.prompt = prompt;
        }
    }
}
