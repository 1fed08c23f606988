package io.github.nablagfn.examples.docs;

import java.nio.file.Path;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * Draws docs/figures/tilt.png: a pretrained density p_ref (three modes), the reward weight exp(βR) for
 * R(x) = x, and the fine-tuning target p*(x) ∝ p_ref(x)·exp(βR(x)), normalised. Argument: output PNG.
 */
public final class ConceptFigure {
  private ConceptFigure() {}

  public static void main(String[] args) throws Exception {
    int n = 400;
    double[] x = new double[n];
    double[] ref = new double[n];
    double[] weight = new double[n];
    double[] target = new double[n];
    double beta = 0.8;
    double[] mu = {-2.5, 0, 2.5};
    double[] w = {0.3, 0.4, 0.3};
    double s = 0.5;
    double sumT = 0;
    for (int i = 0; i < n; i++) {
      x[i] = -5 + 10.0 * i / (n - 1);
      for (int k = 0; k < 3; k++) {
        ref[i] += w[k] * Math.exp(-(x[i] - mu[k]) * (x[i] - mu[k]) / (2 * s * s)) / Math.sqrt(2 * Math.PI * s * s);
      }
      weight[i] = Math.exp(beta * x[i]);
      target[i] = ref[i] * weight[i];
      sumT += target[i] * 10.0 / (n - 1);
    }
    double maxW = weight[n - 1];
    for (int i = 0; i < n; i++) {
      target[i] /= sumT;
      weight[i] = weight[i] / maxW * 0.5; // scaled to fit the plot
    }
    XYChart chart = new XYChartBuilder().width(720).height(360)
        .title("Fine-tuning target p*(x) ∝ p_ref(x) · exp(β R(x)),  R(x) = x,  β = 0.8").xAxisTitle("x")
        .yAxisTitle("density").build();
    chart.getStyler().setMarkerSize(0);
    chart.getStyler().setXAxisDecimalPattern("0.#");
    chart.getStyler().setYAxisDecimalPattern("0.0#");
    chart.addSeries("p_ref (pretrained model)", x, ref);
    chart.addSeries("exp(β R) (scaled)", x, weight);
    chart.addSeries("p* (target of Residual ∇-DB)", x, target);
    String out = args.length > 0 ? args[0] : "docs/figures/tilt.png";
    BitmapEncoder.saveBitmap(chart, out.substring(0, out.length() - 4), BitmapEncoder.BitmapFormat.PNG);
  }
}
