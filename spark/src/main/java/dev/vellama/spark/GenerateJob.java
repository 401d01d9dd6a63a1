package dev.vellama.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The job for {@code spark-submit}: reads prompts (JSON lines, or Parquet with {@code --format parquet}), adds each
 * row's completion ({@link SparkGeneration}) and writes the result in the same format.
 *
 * <pre>
 * spark-submit --class dev.vellama.spark.GenerateJob vellama-spark.jar --model /models/m.gguf \
 *     --input prompts.jsonl --output out/ [--format json|parquet] [--ctx 2048] [--threads 1] [--max-tokens 128]
 * </pre>
 */
public final class GenerateJob {
    private GenerateJob() {
    }

    /**
     * Runs the job.
     *
     * @param args the options above
     */
    public static void main(String[] args) {
        java.util.Map<String, String> o = new java.util.HashMap<>(java.util.Map.of("--format", "json", "--ctx", "2048",
                "--threads", "1", "--max-tokens", "128"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i], args[i + 1]);
        }
        for (String required : new String[] {"--model", "--input", "--output"}) {
            if (!o.containsKey(required)) {
                System.err.println("GenerateJob: " + required + " is required");
                System.exit(2);
            }
        }
        SparkSession spark = SparkSession.builder().appName("vellama-generate").getOrCreate();
        try {
            Dataset<Row> in = spark.read().format(o.get("--format")).load(o.get("--input"));
            new SparkGeneration(o.get("--model"), Integer.parseInt(o.get("--ctx")), Integer.parseInt(o.get("--threads")),
                    Integer.parseInt(o.get("--max-tokens"))).generate(in).write().format(o.get("--format")).save(o.get("--output"));
        } finally {
            spark.stop();
        }
    }
}
