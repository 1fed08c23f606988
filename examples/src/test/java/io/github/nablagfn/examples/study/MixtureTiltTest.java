package io.github.nablagfn.examples.study;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.runtime.Rng;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The mixture's closed-form residual log-flow against independent estimates: its value against
 * self-normalised importance sampling of x_0 from the prior (weights N(x_t; √ᾱ x_0, (1 − ᾱ) I)), with a
 * tolerance of four delta-method standard errors, and its gradient against central differences of the
 * value.
 */
class MixtureTiltTest {
  private static final double[][] CENTRES = {{2, 0}, {0, 2}, {-2, 0}, {0, -2}};
  private static final double[] WEIGHTS = {0.4, 0.3, 0.2, 0.1};
  private static final double STD = 0.25;
  private static final double BETA = 1.3;
  private static final double WIDTH = 2.07;
  private static final double[] MU0 = {2, 0};

  @ParameterizedTest
  @CsvSource({"0.9, 1.5, 0.3", "0.5, -0.4, 0.9", "0.2, -0.1, -0.6", "0.05, 0.7, 0.2"})
  void valueMatchesImportanceSamplingAndGradientMatchesDifferences(double a, double x, double y) {
    MixtureTilt tilt = new MixtureTilt(CENTRES, WEIGHTS, STD, BETA, WIDTH, MU0);
    double[] xt = {x, y};
    // E[exp(βR(x_0)) | x_t] = Σ L_i e^{βR_i} / Σ L_i over x_0 ~ prior, L_i = p(x_t | x_0)
    Rng rng = Rng.of(7);
    int n = 400_000;
    double[] l = new double[n];
    double[] f = new double[n];
    double maxLog = Double.NEGATIVE_INFINITY;
    double[] logL = new double[n];
    for (int i = 0; i < n; i++) {
      double u = rng.nextDouble();
      int k = 0;
      double cumulative = WEIGHTS[0];
      while (u >= cumulative && k < WEIGHTS.length - 1) {
        cumulative += WEIGHTS[++k];
      }
      double x0 = CENTRES[k][0] + STD * rng.nextGaussian();
      double y0 = CENTRES[k][1] + STD * rng.nextGaussian();
      double dx = x - Math.sqrt(a) * x0;
      double dy = y - Math.sqrt(a) * y0;
      logL[i] = -(dx * dx + dy * dy) / (2 * (1 - a));
      maxLog = Math.max(maxLog, logL[i]);
      double rx = x0 - MU0[0];
      double ry = y0 - MU0[1];
      f[i] = Math.exp(-BETA * (rx * rx + ry * ry) / (2 * WIDTH * WIDTH));
    }
    double sw = 0;
    double swf = 0;
    for (int i = 0; i < n; i++) {
      l[i] = Math.exp(logL[i] - maxLog);
      sw += l[i];
      swf += l[i] * f[i];
    }
    double est = swf / sw;
    double var = 0; // delta-method variance of the ratio estimate
    for (int i = 0; i < n; i++) {
      double r = l[i] * (f[i] - est);
      var += r * r;
    }
    double se = Math.sqrt(var) / sw;
    assertThat(Math.exp(tilt.logFlow(xt, a))).as("F̃ at a = %s, x = (%s, %s), SE %s", a, x, y, se)
        .isCloseTo(est, within(4 * se));
    double h = 1e-5;
    double[] g = tilt.logFlowGradient(xt, a);
    for (int d = 0; d < 2; d++) {
      double[] up = xt.clone();
      double[] down = xt.clone();
      up[d] += h;
      down[d] -= h;
      double fd = (tilt.logFlow(up, a) - tilt.logFlow(down, a)) / (2 * h);
      assertThat(g[d]).as("∂/∂x_%d log F̃", d).isCloseTo(fd, within(1e-6 + 1e-5 * Math.abs(fd)));
    }
  }
}
