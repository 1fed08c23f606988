package io.github.nablagfn.examples.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/** Line charts written as PNG (XChart). */
final class Plots {
  private Plots() {}

  /** One series y(x) per name, on one chart. */
  static void line(Path png, String title, String xLabel, String yLabel, double[] x, List<String> names,
      List<double[]> ys) throws IOException {
    XYChart chart = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel)
        .build();
    chart.getStyler().setMarkerSize(4);
    for (int i = 0; i < names.size(); i++) {
      chart.addSeries(names.get(i), x, ys.get(i));
    }
    String file = png.toString();
    BitmapEncoder.saveBitmap(chart, file.endsWith(".png") ? file.substring(0, file.length() - 4) : file,
        BitmapEncoder.BitmapFormat.PNG);
  }

  /** One series (xs[i], ys[i]) per name, each with its own x values. */
  static void xy(Path png, String title, String xLabel, String yLabel, List<String> names, List<double[]> xs,
      List<double[]> ys) throws IOException {
    XYChart chart = new XYChartBuilder().width(640).height(400).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel)
        .build();
    chart.getStyler().setMarkerSize(5);
    for (int i = 0; i < names.size(); i++) {
      chart.addSeries(names.get(i), xs.get(i), ys.get(i));
    }
    String file = png.toString();
    BitmapEncoder.saveBitmap(chart, file.endsWith(".png") ? file.substring(0, file.length() - 4) : file,
        BitmapEncoder.BitmapFormat.PNG);
  }
}
