package io.github.nablagfn.core.toy;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.train.DataSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Samples of N(mean, cov) in d dimensions, drawn as mean + L z with L the Cholesky factor of cov. */
public final class GaussianData implements DataSource {
  private final double[] mean;
  private final double[][] chol;

  /** @param cov symmetric positive definite d×d */
  public GaussianData(double[] mean, double[][] cov) {
    int d = mean.length;
    if (d < 1 || cov.length != d) {
      throw new IllegalArgumentException("mean has " + d + " entries but cov has " + cov.length + " rows");
    }
    this.mean = mean.clone();
    this.chol = cholesky(cov);
  }

  public double[] mean() {
    return mean.clone();
  }

  /** Lower-triangular L with L Lᵀ = a; throws if a is not symmetric positive definite. */
  static double[][] cholesky(double[][] a) {
    int n = a.length;
    double[][] l = new double[n][n];
    for (int i = 0; i < n; i++) {
      if (a[i].length != n) {
        throw new IllegalArgumentException("covariance row " + i + " has " + a[i].length + " entries; expected " + n);
      }
      for (int j = 0; j <= i; j++) {
        if (Math.abs(a[i][j] - a[j][i]) > 1e-12 * (1 + Math.abs(a[i][j]))) {
          throw new IllegalArgumentException("covariance is not symmetric at (" + i + ", " + j + ")");
        }
        double s = a[i][j];
        for (int k = 0; k < j; k++) {
          s -= l[i][k] * l[j][k];
        }
        if (i == j) {
          if (!(s > 0)) {
            throw new IllegalArgumentException("covariance is not positive definite (pivot " + i + " = " + s + ")");
          }
          l[i][i] = Math.sqrt(s);
        } else {
          l[i][j] = s / l[j][j];
        }
      }
    }
    return l;
  }

  @Override
  public Batch next(Rng rng, int batchSize) {
    int d = mean.length;
    float[] out = new float[batchSize * d];
    double[] z = new double[d];
    for (int b = 0; b < batchSize; b++) {
      for (int i = 0; i < d; i++) {
        z[i] = rng.nextGaussian();
      }
      for (int i = 0; i < d; i++) {
        double v = mean[i];
        for (int k = 0; k <= i; k++) {
          v += chol[i][k] * z[k];
        }
        out[b * d + i] = (float) v;
      }
    }
    return new Batch(Nd4j.create(out, new long[] {batchSize, d}, DataType.FLOAT), null);
  }
}
