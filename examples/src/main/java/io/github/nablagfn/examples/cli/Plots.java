package io.github.nablagfn.examples.cli;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Line charts written as PNG (XChart). Every series of a chart has its own colour and marker (twelve colours,
 * seven markers, so no two of up to twelve series look alike), optional error bars, and the y axis can be
 * logarithmic (points ≤ 0 are then left out).
 */
final class Plots {
  private Plots() {}

  /** Distinguishable colours (a qualitative palette), in order. */
  private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
      new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
      new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x000000), new Color(0xaec7e8)};
  private static final Marker[] MARKERS = {SeriesMarkers.CIRCLE, SeriesMarkers.DIAMOND, SeriesMarkers.SQUARE,
      SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.CROSS, SeriesMarkers.PLUS};

  /** One series: y(x), with error bars {@code err} (or null). */
  record Series(String name, double[] x, double[] y, double[] err) {}

  /** One series y(x) per name, on one chart. */
  static void line(Path png, String title, String xLabel, String yLabel, double[] x, List<String> names,
      List<double[]> ys) throws IOException {
    List<Series> series = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      series.add(new Series(names.get(i), x, ys.get(i), null));
    }
    chart(png, title, xLabel, yLabel, series, false);
  }

  /** The series on one chart; with {@code logY} the y axis is logarithmic and points with y ≤ 0 are dropped. */
  static void chart(Path png, String title, String xLabel, String yLabel, List<Series> series, boolean logY)
      throws IOException {
    XYChart chart = new XYChartBuilder().width(720).height(450).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel)
        .build();
    chart.getStyler().setMarkerSize(7);
    chart.getStyler().setYAxisLogarithmic(logY);
    chart.getStyler().setErrorBarsColorSeriesColor(true);
    for (int i = 0; i < series.size(); i++) {
      Series s = series.get(i);
      double[][] kept = logY ? positive(s) : new double[][] {s.x(), s.y(), s.err()};
      if (kept[0].length == 0) {
        continue;
      }
      XYSeries added = kept[2] == null ? chart.addSeries(s.name(), kept[0], kept[1])
          : chart.addSeries(s.name(), kept[0], kept[1], kept[2]);
      added.setLineColor(COLOURS[i % COLOURS.length]);
      added.setMarkerColor(COLOURS[i % COLOURS.length]);
      added.setMarker(MARKERS[i % MARKERS.length]);
    }
    String file = png.toString();
    BitmapEncoder.saveBitmap(chart, file.endsWith(".png") ? file.substring(0, file.length() - 4) : file,
        BitmapEncoder.BitmapFormat.PNG);
  }

  private static double[][] positive(Series s) {
    int n = 0;
    for (double v : s.y()) {
      n += v > 0 ? 1 : 0;
    }
    double[] x = new double[n];
    double[] y = new double[n];
    double[] e = s.err() == null ? null : new double[n];
    for (int i = 0, k = 0; i < s.y().length; i++) {
      if (s.y()[i] > 0) {
        x[k] = s.x()[i];
        y[k] = s.y()[i];
        if (e != null) {
          e[k] = Math.min(s.err()[i], 0.9 * s.y()[i]); // a bar below 0 has no place on a log axis
        }
        k++;
      }
    }
    return new double[][] {x, y, e};
  }

  /** Whether positive values spanning more than two decades call for a logarithmic axis. */
  static boolean spansDecades(List<Series> series) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = 0;
    for (Series s : series) {
      for (double v : s.y()) {
        if (v > 0 && Double.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    return hi > 0 && hi / lo > 100;
  }
}
