package io.github.nablagfn.rewards.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.runtime.Rng;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class FrechetTest {

  /** n samples of N(mu, diag(var)) rotated by a fixed orthogonal matrix q (so covariances are not diagonal). */
  private static INDArray sample(Rng rng, int n, double[] mu, double[] var, double[][] q) {
    int d = mu.length;
    double[][] x = new double[n][d];
    for (int i = 0; i < n; i++) {
      double[] z = new double[d];
      for (int k = 0; k < d; k++) {
        z[k] = Math.sqrt(var[k]) * rng.nextGaussian();
      }
      for (int r = 0; r < d; r++) {
        double v = mu[r];
        for (int k = 0; k < d; k++) {
          v += q[r][k] * z[k];
        }
        x[i][r] = v;
      }
    }
    return Nd4j.createFromArray(x);
  }

  private static final double[][] Q = {{0.6, -0.8, 0}, {0.8, 0.6, 0}, {0, 0, 1}};

  @Test
  void fidOfASetWithItselfIsZero() {
    INDArray x = sample(Rng.of(1), 500, new double[] {1, 2, 3}, new double[] {0.5, 2, 1}, Q);
    assertThat(Frechet.distance(x, x)).isCloseTo(0.0, within(1e-9));
  }

  /**
   * Two Gaussians sharing the rotation Q: the closed form is ‖Δμ‖² + Σ_k (√a_k − √b_k)². Tolerance from the
   * sample size: the estimator's spread is about √((4Δμᵀ(Σ₁+Σ₂)Δμ + 2 Tr((Σ₁+Σ₂)²))/n), allowed 5 times.
   */
  @Test
  void fidOfKnownGaussiansMatchesTheClosedForm() {
    double[] mu1 = {0, 0, 0};
    double[] mu2 = {0.5, -0.3, 0.2};
    double[] a = {1.0, 0.25, 2.0};
    double[] b = {0.5, 0.5, 1.0};
    int n = 40_000;
    double fid = Frechet.distance(sample(Rng.of(2), n, mu1, a, Q), sample(Rng.of(3), n, mu2, b, Q));
    double exact = 0;
    double spread = 0;
    for (int k = 0; k < 3; k++) {
      exact += Math.pow(mu1[k] - mu2[k], 2) + Math.pow(Math.sqrt(a[k]) - Math.sqrt(b[k]), 2);
      spread += 2 * Math.pow(a[k] + b[k], 2);
    }
    double dm = 0;
    double[] delta = {0.5, -0.3, 0.2};
    // Δμᵀ(Σ₁+Σ₂)Δμ in the rotated basis: (Qᵀ Δμ)_k² (a_k + b_k)
    for (int k = 0; k < 3; k++) {
      double proj = 0;
      for (int r = 0; r < 3; r++) {
        proj += Q[r][k] * delta[r];
      }
      dm += proj * proj * (a[k] + b[k]);
    }
    spread = Math.sqrt((4 * dm + spread) / n);
    assertThat(fid).isCloseTo(exact, within(5 * spread));
  }

  @Test
  void fidIsSymmetricAndInvariantToSampleOrder() {
    qt().withFixedSeed(4).withExamples(10).forAll(longs().all()).checkAssert(seed -> {
      Rng rng = Rng.of(seed);
      INDArray x = sample(rng, 200, new double[] {0, 1, 0}, new double[] {1, 0.3, 2}, Q);
      INDArray y = sample(rng, 300, new double[] {0.2, 0, 0}, new double[] {0.7, 1, 1}, Q);
      double xy = Frechet.distance(x, y);
      assertThat(Frechet.distance(y, x)).isCloseTo(xy, within(1e-9 * (1 + xy)));
      int[] perm = new int[200];
      for (int i = 0; i < 200; i++) {
        perm[i] = 199 - i;
      }
      INDArray xp = Nd4j.pullRows(x, 1, perm);
      assertThat(Frechet.distance(xp, y)).isCloseTo(xy, within(1e-9 * (1 + xy)));
    });
  }

  @Test
  void closedFormMatrixSquareRootIsExactForKnownMatrices() {
    double[][] s = {{4, 2}, {2, 3}};
    double[][] r = SymmetricEigen.sqrt(s);
    double[][] rr = SymmetricEigen.multiply(r, r);
    for (int i = 0; i < 2; i++) {
      for (int j = 0; j < 2; j++) {
        assertThat(rr[i][j]).isCloseTo(s[i][j], within(1e-12));
      }
    }
    assertThat(Frechet.distance(new double[] {0, 0}, s, new double[] {0, 0}, s)).isCloseTo(0, within(1e-12));
  }
}
