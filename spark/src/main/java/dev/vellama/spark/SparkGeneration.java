package dev.vellama.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.GenerationResult;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Batch generation as a Spark transformation: each row's {@code prompt} (a string column) gets its completion,
 * with the row's own {@code max_tokens}, {@code temperature} and {@code seed} where those columns exist and are
 * set (otherwise the defaults given here; a seed makes a sampled row reproducible). One {@link Model} per executor
 * JVM ({@link ExecutorModels}), read from a path every executor sees; one session per task, reused across the
 * partition's rows. The output keeps the input's columns and adds {@code text}, {@code prompt_tokens},
 * {@code completion_tokens}, {@code stop_reason} and {@code generation_ms}.
 */
public final class SparkGeneration implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String modelFile;
    private final int contextSize;
    private final int threads;
    private final int defaultMaxTokens;

    /**
     * @param modelFile        the GGUF file, at a path every executor can read
     * @param contextSize      each session's context
     * @param threads          compute threads per task (the executor's cores per task)
     * @param defaultMaxTokens tokens per row where the row has no {@code max_tokens}
     */
    public SparkGeneration(String modelFile, int contextSize, int threads, int defaultMaxTokens) {
        this.modelFile = modelFile;
        this.contextSize = contextSize;
        this.threads = threads;
        this.defaultMaxTokens = defaultMaxTokens;
    }

    /**
     * {@return {@code prompts} with each row's completion added}
     *
     * @param prompts rows with a string column {@code prompt}
     * @throws IllegalArgumentException when there is no {@code prompt} column
     */
    public Dataset<Row> generate(Dataset<Row> prompts) {
        StructType in = prompts.schema();
        if (!java.util.Arrays.asList(in.fieldNames()).contains("prompt")) {
            throw new IllegalArgumentException("the input needs a string column 'prompt'; it has " + String.join(", ", in.fieldNames()));
        }
        StructType out = in
                .add(new StructField("text", DataTypes.StringType, false, org.apache.spark.sql.types.Metadata.empty()))
                .add("prompt_tokens", DataTypes.IntegerType, false)
                .add("completion_tokens", DataTypes.IntegerType, false)
                .add("stop_reason", DataTypes.StringType, false)
                .add("generation_ms", DataTypes.LongType, false);
        return prompts.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> generatePartition(rows, in), Encoders.row(out));
    }

    private Iterator<Row> generatePartition(Iterator<Row> rows, StructType in) {
        Model model = ExecutorModels.get(modelFile);
        List<Row> out = new ArrayList<>();
        try (Session session = model.newSession(SessionOptions.defaults().withContextSize(contextSize).withThreads(threads))) {
            while (rows.hasNext()) {
                Row row = rows.next();
                GenerationParams params = params(row, in);
                long t0 = System.nanoTime();
                GenerationResult r = session.generate(row.getString(row.fieldIndex("prompt")), params, null);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                Object[] values = new Object[row.size() + 5];
                for (int i = 0; i < row.size(); i++) {
                    values[i] = row.get(i);
                }
                values[row.size()] = r.text();
                values[row.size() + 1] = r.promptTokens().length;
                values[row.size() + 2] = r.tokens().size();
                values[row.size() + 3] = r.stopReason().name().toLowerCase(java.util.Locale.ROOT);
                values[row.size() + 4] = ms;
                out.add(RowFactory.create(values));
            }
        }
        return out.iterator();
    }

    private GenerationParams params(Row row, StructType in) {
        GenerationParams p = GenerationParams.defaults().withMaxTokens(defaultMaxTokens);
        List<String> names = java.util.Arrays.asList(in.fieldNames());
        if (names.contains("max_tokens") && !row.isNullAt(row.fieldIndex("max_tokens"))) {
            p = p.withMaxTokens(((Number) row.get(row.fieldIndex("max_tokens"))).intValue());
        }
        if (names.contains("temperature") && !row.isNullAt(row.fieldIndex("temperature"))) {
            p = p.withTemperature(((Number) row.get(row.fieldIndex("temperature"))).floatValue());
        }
        if (names.contains("seed") && !row.isNullAt(row.fieldIndex("seed"))) {
            p = p.withSeed(((Number) row.get(row.fieldIndex("seed"))).longValue());
        }
        return p;
    }
}
