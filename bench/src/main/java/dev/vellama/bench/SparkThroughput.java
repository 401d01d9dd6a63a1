package dev.vellama.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.vellama.runtime.GenerationParams;
import dev.vellama.runtime.Model;
import dev.vellama.runtime.Session;
import dev.vellama.runtime.SessionOptions;
import dev.vellama.spark.SparkGeneration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The Spark job's overhead: generated tokens/s of {@link SparkGeneration} in local mode against a plain loop over
 * the same prompts in one JVM, alternating, ROUNDS rounds. Spark is not in the benchmarks jar; run with the
 * classpath Maven gives the bench module (Spark is a provided dependency there):
 *
 * <pre>
 * scripts/mvn25 -q -pl bench dependency:build-classpath -Dmdep.outputFile=/tmp/bench-cp.txt -Dmdep.includeScope=test
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *     -cp bench/target/classes:$(cat /tmp/bench-cp.txt) dev.vellama.bench.SparkThroughput MODEL [PROMPTS=24] [TOKENS=32] [ROUNDS=2]
 * </pre>
 */
public final class SparkThroughput {
    private SparkThroughput() {
    }

    public static void main(String[] args) throws Exception {
        String model = args[0];
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 24;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        List<String> prompts = new ArrayList<>();
        String[] starts = {"Once upon a time", "The function returns", "To create a table", "The server started"};
        for (int i = 0; i < n; i++) {
            prompts.add(starts[i % starts.length] + " " + i);
        }
        SparkSession spark = SparkSession.builder().master("local[2]").appName("throughput")
                .config("spark.ui.enabled", "false").getOrCreate();
        try (Model m = Model.load(Path.of(model))) {
            Dataset<Row> in = spark.createDataset(prompts, Encoders.STRING()).toDF("prompt");
            for (int round = 0; round < rounds; round++) {
                long t0 = System.nanoTime();
                int generated = 0;
                try (Session s = m.newSession(SessionOptions.defaults().withContextSize(256).withThreads(2))) {
                    for (String p : prompts) {
                        generated += s.generate(p, GenerationParams.greedy().withMaxTokens(tokens), null).tokens().size();
                    }
                }
                double loop = generated / ((System.nanoTime() - t0) / 1e9);
                double oneTask = run(in.repartition(1), model, 2, tokens);
                double twoTasks = run(in.repartition(2), model, 1, tokens);
                System.out.printf(Locale.ROOT, "round %d: loop (2 threads) %.1f tokens/s; Spark, 1 task x 2 threads %.1f; Spark, 2 tasks x 1 thread %.1f%n",
                        round, loop, oneTask, twoTasks);
            }
        } finally {
            spark.stop();
        }
    }

    private static double run(Dataset<Row> in, String model, int threads, int tokens) {
        in = in.withColumn("max_tokens", org.apache.spark.sql.functions.lit(tokens)).withColumn("temperature", org.apache.spark.sql.functions.lit(0.0));
        long t0 = System.nanoTime();
        List<Row> rows = new SparkGeneration(model, 256, threads, tokens).generate(in).collectAsList();
        long generated = rows.stream().mapToLong(r -> r.getInt(r.fieldIndex("completion_tokens"))).sum();
        return generated / ((System.nanoTime() - t0) / 1e9);
    }
}
