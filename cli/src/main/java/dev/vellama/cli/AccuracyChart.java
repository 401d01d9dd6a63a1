package dev.vellama.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/** The chart of {@code vellama eval}, drawn by XChart: accuracy against k, or against model size, with 95% intervals. */
final class AccuracyChart {
    private AccuracyChart() {
    }

    /**
     * Writes {@code results} as an SVG or PNG (by the file's extension): with {@code bySize}, one series per k against
     * the models' parameter counts (log axis); otherwise one series per model against k.
     */
    static void write(Path file, List<EvalCommand.Result> results, boolean bySize) throws IOException {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true"); // a file, never a window: no display needed
        }
        XYChart chart = new XYChartBuilder().width(720).height(450)
                .title(bySize ? "Accuracy by model size" : "Accuracy by number of examples")
                .xAxisTitle(bySize ? "parameters" : "examples in the prompt (k)").yAxisTitle("accuracy").build();
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0).setXAxisLogarithmic(bySize).setChartBackgroundColor(java.awt.Color.WHITE);
        Function<EvalCommand.Result, String> seriesOf = bySize
                ? r -> r.k() < 0 ? "accuracy" : "k = " + r.k()
                : EvalCommand.Result::model;
        Map<String, List<EvalCommand.Result>> series = new LinkedHashMap<>();
        for (EvalCommand.Result r : results) {
            series.computeIfAbsent(seriesOf.apply(r), s -> new ArrayList<>()).add(r);
        }
        for (Map.Entry<String, List<EvalCommand.Result>> e : series.entrySet()) {
            List<EvalCommand.Result> points = new ArrayList<>(e.getValue());
            points.sort(java.util.Comparator.comparingDouble(r -> bySize ? r.parameters() : r.k()));
            double[] x = points.stream().mapToDouble(r -> bySize ? r.parameters() : Math.max(0, r.k())).toArray();
            double[] y = points.stream().mapToDouble(r -> r.accuracy().value()).toArray();
            // XChart's error bars are symmetric: the wider side of the Wilson interval
            double[] err = points.stream().mapToDouble(r -> Math.max(r.accuracy().value() - r.accuracy().low(),
                    r.accuracy().high() - r.accuracy().value())).toArray();
            XYSeries s = chart.addSeries(e.getKey(), x, y, err);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        }
        String name = file.toString();
        if (name.endsWith(".svg")) {
            VectorGraphicsEncoder.saveVectorGraphic(chart, name.substring(0, name.length() - 4), VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        } else {
            BitmapEncoder.saveBitmap(chart, name.substring(0, name.length() - 4), BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
